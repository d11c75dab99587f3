/**
 * Instructions per request under valgrind's callgrind: a measure that does not move with the machine's load (CPU time per
 * request on a shared 2-core machine spreads by ±15–50% between rounds of one build). Each target — the bare node:http proxy,
 * Switchyard and optionally an older build (`--baseline <cli.js>`) — runs under callgrind with instrumentation off, serves
 * `--warmup` sequential requests, then counts the user-space instructions of `--windows` successive windows of `--requests`
 * requests each (the counts still drift between windows as the JIT and the heap settle), per thread: the main thread (JavaScript, the HTTP parser, scavenges) and all threads (plus marking, sweeping, compilation).
 * The kernel's share (socket writes) is not in it. Loads: json and stream (pure proxy) and intent (one intent rule with a
 * 0 ms semantic budget, so every request is served degraded: the path a saturated gateway serves most requests by).
 *   node dist/bench/instructions.js [--loads json,stream,intent] [--warmup 3000] [--requests 500] [--windows 3] [--baseline <cli.js>] [--no-bare]
 * Needs valgrind (apt-get install -y valgrind). Slow: a few minutes per target and load. Prints JSON.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { stringify } from 'yaml';
import { EXTRA_MODES, MODEL, modeConfig, PURE_MODE, BUILTIN_PROMPTS, type ModeDef } from './load/modes.js';
import { loadScript, spawnReady, startSwitchyard, type Child } from './load/processes.js';

const run = promisify(execFile);

const DEGRADED_INTENT_MODE: ModeDef = (() => {
  const m = EXTRA_MODES.find((x) => x.id === 'intent_rule')!;
  return { ...m, id: 'intent_degraded', sections: { ...m.sections, semantic: { enabled: true, max_wait_ms: 0 } } };
})();
const LOADS = { json: { stream: false, mode: PURE_MODE }, stream: { stream: true, mode: PURE_MODE }, intent: { stream: false, mode: DEGRADED_INTENT_MODE } } as const;
type LoadKind = keyof typeof LOADS;

interface Count {
  main_thread: number;
  all_threads: number;
}

const BODY = (stream: boolean): string => JSON.stringify({ model: MODEL, stream, messages: [{ role: 'user', content: BUILTIN_PROMPTS[0] }] });

/** `n` sequential requests; every reply read to its end. */
async function send(origin: string, stream: boolean, n: number): Promise<number> {
  const body = BODY(stream);
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${origin}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    if (!res.ok) errors++;
  }
  return errors;
}

/** Instructions per request from the callgrind parts of dump `k` of `pid` (one file per thread; `-01` is the main thread). */
async function counts(dir: string, pid: number, k: number, requests: number): Promise<Count> {
  const files = (await readdir(dir)).filter((f) => f.startsWith(`cg.${pid}.${k}-`));
  let main = 0;
  let all = 0;
  for (const f of files) {
    const text = await readFile(join(dir, f), 'utf8');
    const m = /^(?:totals|summary):\s+(\d+)/m.exec(text);
    const n = m ? Number(m[1]) : 0;
    all += n;
    if (f.endsWith('-01')) main += n;
  }
  return { main_thread: Math.round(main / requests), all_threads: Math.round(all / requests) };
}

/** One target: warm-up, then `windows` counted windows of `requests` each (the JIT and the heap still settle between them). */
async function measure(dir: string, start: (prefix: string[]) => Promise<{ child: Child; origin: string }>, stream: boolean, warmup: number, requests: number, windows: number): Promise<{ windows: Count[]; errors: number }> {
  const prefix = ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(dir, 'cg.%p')}`];
  const { child, origin } = await start(prefix);
  try {
    const pid = child.proc.pid!;
    await send(origin, stream, warmup);
    await run('callgrind_control', ['-i', 'on', String(pid)]);
    await send(origin, stream, 200); // the instrumented code's first translations
    await run('callgrind_control', ['-z', String(pid)]);
    const out: Count[] = [];
    let errors = 0;
    for (let k = 1; k <= windows; k++) {
      errors += await send(origin, stream, requests);
      await run('callgrind_control', ['-d', String(pid)]); // dumps the window and starts the next from zero
      out.push(await counts(dir, pid, k, requests));
    }
    return { windows: out, errors };
  } finally {
    await child.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { loads: { type: 'string' }, warmup: { type: 'string' }, requests: { type: 'string' }, windows: { type: 'string' }, baseline: { type: 'string' }, 'no-bare': { type: 'boolean' } } });
  const loads = (values.loads ?? 'json,stream,intent').split(',') as LoadKind[];
  const warmup = Number(values.warmup ?? 3000);
  const requests = Number(values.requests ?? 500);
  const windows = Number(values.windows ?? 3);
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-callgrind-'));
  const children: Child[] = [];
  const out: Record<string, Record<string, { windows: Count[]; errors: number }>> = {};
  try {
    const up = await spawnReady<{ url: string; origin: string }>(loadScript('upstream'), []);
    children.push(up.child);
    for (const kind of loads) {
      const { stream, mode } = LOADS[kind];
      const c = modeConfig(mode, up.info.url);
      if (!c.ok) throw new Error(`the ${mode.id} config is invalid: ${c.reason}`);
      const file = join(dir, `${mode.id}.yaml`);
      await writeFile(file, stringify(c.config));
      const row: Record<string, { windows: Count[]; errors: number }> = (out[kind] = {});
      if (values['no-bare'] !== true) {
        row.bare = await measure(dir, async (prefix) => {
          const bare = await spawnReady<{ url: string }>(loadScript('bare-proxy'), [up.info.origin], [], prefix);
          return { child: bare.child, origin: new URL(bare.info.url).origin };
        }, stream, warmup, requests, windows);
      }
      row.switchyard = await measure(dir, (prefix) => startSwitchyard(file, [], 600_000, undefined, prefix), stream, warmup, requests, windows);
      if (values.baseline !== undefined) row.baseline = await measure(dir, (prefix) => startSwitchyard(file, [], 600_000, values.baseline, prefix), stream, warmup, requests, windows);
      process.stderr.write(`${kind}: ${JSON.stringify(row)}\n`);
    }
  } finally {
    for (const c of children.reverse()) await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ date: new Date().toISOString(), warmup, requests, windows, baseline: values.baseline ?? null, instructions_per_request: out }, null, 2));
}

await main();
