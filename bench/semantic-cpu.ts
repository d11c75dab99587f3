/**
 * CPU time per request on the semantic path, load-independent: Switchyard with one intent rule (or the cache on) serves an
 * open-loop load from the upstream simulator, and the CPU its threads used meanwhile (from /proc/<pid>/task/<tid>/stat) is
 * divided by the replies: the main thread (the event loop, where a request's own work runs) apart from the rest (the
 * model's threads, libuv's pool, V8's helpers). At a rate the embedder cannot keep up with, most requests are degraded, and
 * a degraded request should cost the main thread about what a pure-proxy request costs (the pure mode runs beside it).
 *   node dist/bench/semantic-cpu.js [--rate <req/s>] [--duration <ms>] [--modes intent_rule,cache_on,pure] [--max-wait <ms>] [--profile <dir>] [--cli <cli.js>]
 * --max-wait: sets semantic.max_wait_ms; 0 degrades every request that would wait for the model (what a degraded request
 * costs, whatever the machine's load), a large value lets every request wait (what an embedded request costs).
 * --cli: another build's compiled CLI (say an older commit's dist/src/cli.js) to measure instead of this tree's.
 * --profile: each mode also runs under --cpu-prof; the .cpuprofile files are kept in <dir>, and the hottest functions printed.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { LoadResult, LoadSpec } from './load/loadgen.js';
import { EXTRA_MODES, modeConfig, PURE_MODE, uniquePrompts, type ModeDef } from './load/modes.js';
import { cliScript, repoRoot, runLoadProcess, spawnUpstreamAndBareProxy, startSwitchyard, type Child } from './load/processes.js';
import { summarise, type CpuProfile, type Hotspot } from './load/profile.js';
import { round } from './load/stats.js';

/** Clock ticks per second of /proc's utime and stime (USER_HZ; 100 on Linux). */
const USER_HZ = 100;

async function taskCpuMs(pid: number, tid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return 0; // the thread has exited
  }
}

/** CPU ms per thread of a process, keyed by thread id (the main thread's id is the pid). */
async function threadsCpuMs(pid: number): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const t of await readdir(`/proc/${pid}/task`)) out.set(Number(t), await taskCpuMs(pid, Number(t)));
  return out;
}

export interface SemanticCpuRun {
  mode: string;
  rate: number;
  requests: number;
  errors: number;
  served_per_s: number;
  p50_ms: number;
  p99_ms: number;
  degraded_share?: number;
  cache?: Record<string, number>;
  /** CPU µs per reply: the main thread, and every other thread of the process together. */
  main_us_per_request: number;
  other_us_per_request: number;
  top_functions?: Hotspot[];
}

function loadSpec(origin: string, rate: number, mode: ModeDef, prompts: string[], warmupMs: number, durationMs: number): LoadSpec {
  return { origin, path: '/v1/chat/completions', mode: 'open', rate, connections: 128, warmup_ms: warmupMs, duration_ms: durationMs, stream: false, workload: mode.workload(prompts) };
}

async function measureMode(mode: ModeDef, upstreamUrl: string, dir: string, o: { rate: number; durationMs: number; prompts: string[]; cli: string; maxWaitMs?: number; profileDir?: string }): Promise<SemanticCpuRun> {
  const cfg = modeConfig(mode, upstreamUrl);
  if (!cfg.ok) throw new Error(`mode ${mode.id}: ${cfg.reason}`);
  const semantic = cfg.config.semantic as Record<string, unknown> | undefined;
  if (o.maxWaitMs !== undefined && semantic?.enabled === true) cfg.config.semantic = { ...semantic, max_wait_ms: o.maxWaitMs };
  const file = join(dir, `${mode.id}.yaml`);
  await writeFile(file, stringify(cfg.config));
  const profDir = join(dir, `prof-${mode.id}`);
  const sw = await startSwitchyard(file, o.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`], 120_000, o.cli);
  const pid = sw.child.proc.pid!;
  let res: LoadResult;
  let before: Map<number, number>;
  let after: Map<number, number>;
  let fromUs = 0;
  try {
    // Warm-up: the same load for a while (JIT, connection pools, the embedder's LRU sees other prompts than the measured ones).
    await runLoadProcess(loadSpec(sw.origin, o.rate, mode, o.prompts.slice().reverse(), 0, 1500));
    await new Promise((r) => setTimeout(r, 500));
    fromUs = Number(process.hrtime.bigint() / 1000n);
    before = await threadsCpuMs(pid);
    res = await runLoadProcess(loadSpec(sw.origin, o.rate, mode, o.prompts, 0, o.durationMs));
    after = await threadsCpuMs(pid);
  } finally {
    await sw.child.stop();
  }
  let main = 0;
  let other = 0;
  for (const [tid, ms] of after) {
    const d = ms - (before.get(tid) ?? 0);
    if (tid === pid) main += d;
    else other += d;
  }
  const served = res.requests + res.errors;
  const run: SemanticCpuRun = {
    mode: mode.id, rate: o.rate, requests: res.requests, errors: res.errors, served_per_s: res.rps, p50_ms: res.p50_ms, p99_ms: res.p99_ms,
    main_us_per_request: round(served > 0 ? (main * 1000) / served : 0, 1),
    other_us_per_request: round(served > 0 ? (other * 1000) / served : 0, 1),
  };
  if (res.semantic) {
    const all = Object.values(res.semantic).reduce((a, b) => a + b, 0);
    run.degraded_share = all === 0 ? 0 : round((res.semantic.degraded ?? 0) / all, 4);
  }
  if (res.cache) run.cache = res.cache;
  if (o.profileDir !== undefined) {
    const written = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
    if (written[0] !== undefined) {
      await mkdir(o.profileDir, { recursive: true });
      const kept = join(o.profileDir, `semantic-${mode.id}-r${o.rate}.cpuprofile`);
      await rename(join(profDir, written[0]), kept);
      await writeFile(kept.replace(/\.cpuprofile$/, '.json'), JSON.stringify({ from_us: fromUs }));
      const profile = JSON.parse(await readFile(kept, 'utf8')) as CpuProfile;
      run.top_functions = summarise(profile, repoRoot(), fromUs, 20).top_functions;
    }
  }
  return run;
}

export async function benchSemanticCpu(opts: { rate?: number; durationMs?: number; modes?: string[]; cli?: string; maxWaitMs?: number; profileDir?: string; dataDir?: string; log?: (l: string) => void } = {}): Promise<{ load_average: number[]; runs: SemanticCpuRun[] }> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const all = [...EXTRA_MODES, PURE_MODE];
  const modes = (opts.modes ?? ['intent_rule', 'cache_on', 'pure']).map((id) => {
    const m = all.find((x) => x.id === id);
    if (!m) throw new Error(`unknown mode '${id}' (${all.map((x) => x.id).join(', ')})`);
    return m;
  });
  const { prompts } = await uniquePrompts(opts.dataDir);
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-semcpu-'));
  const children: Child[] = [];
  const runs: SemanticCpuRun[] = [];
  try {
    const { upstream } = await spawnUpstreamAndBareProxy(children);
    for (const mode of modes) {
      const run = await measureMode(mode, upstream.info.url, dir, { rate: opts.rate ?? 2000, durationMs: opts.durationMs ?? 4000, prompts, cli: opts.cli ?? cliScript(), maxWaitMs: opts.maxWaitMs, profileDir: opts.profileDir });
      runs.push(run);
      log(`${mode.id.padEnd(12)} r${run.rate}: main ${run.main_us_per_request} µs/req, other threads ${run.other_us_per_request} µs/req; served ${run.served_per_s}/s p50 ${run.p50_ms} p99 ${run.p99_ms} errors ${run.errors} degraded ${run.degraded_share ?? '–'}`);
    }
  } finally {
    for (const c of children.reverse()) await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return { load_average: loadavg().map((x) => round(x, 2)), runs };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { rate: { type: 'string' }, duration: { type: 'string' }, modes: { type: 'string' }, cli: { type: 'string' }, profile: { type: 'string' }, data: { type: 'string' }, 'max-wait': { type: 'string' } } });
  const report = await benchSemanticCpu({
    rate: values.rate === undefined ? undefined : Number(values.rate),
    durationMs: values.duration === undefined ? undefined : Number(values.duration),
    modes: values.modes?.split(','),
    cli: values.cli,
    maxWaitMs: values['max-wait'] === undefined ? undefined : Number(values['max-wait']),
    profileDir: values.profile,
    dataDir: values.data ?? join(repoRoot(), '..', 'shared', 'data'),
  });
  console.log(JSON.stringify(report, null, 2));
}
