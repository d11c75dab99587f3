/**
 * A gateway in a process of its own, for tests whose claim is about the process: that it starts from a given folder or a
 * built tree, survives, what it logs, how it reloads its config file. `spawnGateway` starts any command line on an ephemeral
 * port and waits for the "switchyard listening" log line; `startGatewayProcess` runs the `switchyard` command (`cliArgs`) on a config file it writes.
 * Everything the process writes to stdout and stderr is kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtIsFresh } from '../../scripts/fingerprint.mjs';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/types.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** tsx as an absolute loader path, so the sources run from any working folder. */
const TSX = import.meta.resolve('tsx');

let fresh: boolean | undefined;
/**
 * The `switchyard` command as of the current sources: `switchyard <args>`. That is dist/src/cli.js when dist/ is a build
 * of the sources exactly as they are (its fingerprint, scripts/fingerprint.mjs, matches them: the build `npm install` and
 * `npm start` make), which starts in a good deal less time than compiling every module on load; else src/cli.ts under tsx.
 */
export const cliArgs = (...args: string[]): string[] =>
  (fresh ??= builtIsFresh()) ? [path.join(REPO, 'dist/src/cli.js'), ...args] : ['--import', TSX, path.join(REPO, 'src/cli.ts'), ...args];

export interface SpawnedGateway {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** SIGTERM, then the exit code once it has exited. */
  stop(): Promise<number | null>;
}

/** `node <argv>` in `cwd` with `env` (plus PATH and HOME); resolves once it listens, rejects if it exits or takes over `timeoutMs`. */
export async function spawnGateway(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<SpawnedGateway> {
  const child = spawn(process.execPath, argv, {
    cwd: opts.cwd ?? REPO,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let exitCode: number | null | undefined;
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { exitCode = code; resolve(code); }));
  const stop = async (): Promise<number | null> => {
    if (exitCode === undefined) child.kill('SIGTERM');
    return exited;
  };
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { void stop(); reject(new Error(`the gateway did not start within ${timeoutMs} ms:\n${out}`)); }, timeoutMs);
    const onData = (): void => {
      const m = /"url":"(http:\/\/[^"]+)"[^\n]*switchyard listening/.exec(out);
      if (m) { clearTimeout(timer); child.stdout!.off('data', onData); resolve(m[1]); }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`the gateway exited with ${code} before listening:\n${out}`)); });
  });
  return { url, child, output: () => out, alive: () => exitCode === undefined, stop };
}

export interface GatewayProcess extends SpawnedGateway {
  readonly file: string;
  /** Replaces the config file's text (the process reloads it on its own; SIGHUP forces it). */
  writeConfig(text: string): Promise<void>;
  /**
   * Sends SIGHUP and returns the log line of that reload's outcome (one the file watcher started meanwhile logs
   * `trigger: "file"` and is passed over).
   */
  reload(): Promise<string>;
  close(): Promise<number | null>;
}

/** Starts `switchyard` with `configText` as its config file, on an ephemeral port. */
export async function startGatewayProcess(configText: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const dir = await mkdtemp(path.join(tmpdir(), 'switchyard-proc-'));
  const file = path.join(dir, 'gateway.yaml');
  await writeFile(file, configText);
  const gw = await spawnGateway(cliArgs('--config', file, '--port', '0', '--host', '127.0.0.1'), { env: { ...process.env, ...env } });
  return {
    ...gw,
    file,
    writeConfig: (text) => writeFile(file, text),
    async reload() {
      const from = gw.output().length;
      gw.child.kill('SIGHUP');
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const tail = gw.output().slice(from);
        const own = tail.split('\n').find((l) => /config reloaded|config reload refused/.test(l) && /"trigger":"request"/.test(l));
        if (own !== undefined) return own;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no reload outcome logged:\n${gw.output().slice(from)}`);
    },
    async close() {
      const code = await gw.stop();
      await rm(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/**
 * A gateway process with semantic features off in front of one simulated OpenAI upstream: provider `sim.name` (one key,
 * model `m`) and `lines` of config besides.
 */
export async function simGatewayProcess(sim: Omit<SimulatorOptions, 'protocol'> & { name: string }, lines: string[], env: Record<string, string> = {}): Promise<{ upstream: Simulator; gw: GatewayProcess }> {
  const upstream = await startSimulator({ ...sim, protocol: 'openai' });
  const gw = await startGatewayProcess([
    'semantic: { enabled: false }',
    ...lines,
    'providers:',
    `  ${sim.name}: { kind: openai, base_url: "${upstream.url}", keys: [{ id: k1, value: ${sim.name}-upstream-secret-1 }], models: [m] }`,
    '',
  ].join('\n'), env);
  return { upstream, gw };
}

/**
 * Config lines routing by intent between two simulated upstreams: `coder` (model c) takes what the classifier calls
 * code, `general` (model g, the alias `auto`) the rest. Ends inside `rules:`, so more rules may follow.
 */
export const codeRouting = (coder: Simulator, general: Simulator): string[] => [
  'providers:',
  `  coder: { kind: openai, base_url: "${coder.url}", keys: [{ id: k, value: upstream-secret-0001 }], models: [c] }`,
  `  general: { kind: openai, base_url: "${general.url}", keys: [{ id: k, value: upstream-secret-0002 }], models: [g] }`,
  'aliases: { auto: general/g }',
  'rules:',
  '  - { name: code-to-coder, cel_expression: \'intent == "code"\', targets: [{ provider: coder, model: c }] }',
];
