/**
 * Quality evaluations run by the suite through the product's own CLI subcommands (`switchyard eval`, `switchyard cache-eval`)
 * in a child process. The flags passed are the ones the subcommand's --help lists (--data, --json, --quick in quick mode, else
 * --limit: 1,000 items quick, 3,000 otherwise, to keep the suite within minutes); a JSON report
 * on stdout is kept as numbers, otherwise the tail of the text output is kept.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cliScript, repoRoot } from './processes.js';

export interface EvalDef {
  section: string;
  command: string;
  /** What `--data` gets: the data folder or one file in it. */
  data(dir: string): string;
}

export const EVALS: EvalDef[] = [
  { section: 'eval', command: 'eval', data: (dir) => dir },
  { section: 'cache_eval', command: 'cache-eval', data: (dir) => join(dir, 'pairs', 'qqp_dev_balanced_10k.jsonl') },
  { section: 'cache_eval_hard', command: 'cache-eval', data: (dir) => join(dir, 'pairs', 'qqp_dev_hard_2k.jsonl') },
];

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runCli(args: string[], timeoutMs: number): Promise<Outcome> {
  const fromSource = cliScript().endsWith('.ts');
  const proc = spawn(process.execPath, [...(fromSource ? process.execArgv : []), cliScript(), ...args], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGTERM');
  }, timeoutMs);
  return new Promise((resolve) => proc.once('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr, timedOut });
  }));
}

/** The last JSON object printed: the whole output, else the last line that parses. */
function lastJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const lines = text.trim().split('\n').reverse();
    for (const line of lines) {
      if (!line.trim().startsWith('{')) continue;
      try {
        return JSON.parse(line);
      } catch {
        // keep looking
      }
    }
    return undefined;
  }
}

export async function runEval(def: EvalDef, dataDir: string, quick: boolean, log: (l: string) => void): Promise<{ status: 'ok' | 'skipped' | 'failed'; message?: string; seconds?: number; numbers?: unknown }> {
  const source = join(repoRoot(), 'src', 'commands', `${def.command}.ts`);
  if (!existsSync(source)) return { status: 'skipped', message: `the '${def.command}' command (src/commands/${def.command}.ts) is not present` };
  const help = await runCli([def.command, '--help'], 30_000);
  if (help.code !== 0) return { status: 'failed', message: `'switchyard ${def.command} --help' exited ${help.code}: ${help.stderr.trim().slice(-300)}` };
  const flags = help.stdout + help.stderr;
  if (flags.includes('--refs')) {
    return { status: 'skipped', message: `'switchyard ${def.command}' needs --refs, a reference-prompt folder built from the training split; the suite does not build one yet` };
  }
  const args = [def.command];
  if (flags.includes('--data')) args.push('--data', def.data(dataDir));
  if (flags.includes('--json')) args.push('--json');
  if (quick && flags.includes('--quick')) args.push('--quick');
  else if (flags.includes('--limit')) args.push('--limit', quick ? '1000' : '3000');
  log(`running switchyard ${args.join(' ')}`);
  const t0 = performance.now();
  const out = await runCli(args, quick ? 180_000 : 420_000);
  const seconds = Number(((performance.now() - t0) / 1000).toFixed(1));
  if (out.timedOut) return { status: 'failed', message: `timed out after ${seconds} s`, seconds };
  if (out.code !== 0) return { status: 'failed', message: `exited ${out.code}: ${out.stderr.trim().slice(-300)}`, seconds };
  const json = lastJson(out.stdout);
  return json !== undefined
    ? { status: 'ok', seconds, numbers: json }
    : { status: 'ok', seconds, numbers: { text: out.stdout.trim().slice(-3000) } };
}
