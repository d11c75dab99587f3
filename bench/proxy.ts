/**
 * Proxy overhead, side by side in one run: the same loads against (a) the upstream simulator directly, (b) a bare node:http
 * reverse proxy, (c) Switchyard started from its CLI in pure proxy mode; then Switchyard in the extra modes (intent rule,
 * semantic cache) whose config sections the schema accepts. Upstream, proxies and load generator are separate processes.
 * Run alone: `node dist/bench/proxy.js [--quick]`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import type { LoadResult, LoadSpec, Workload } from './load/loadgen.js';
import { EXTRA_MODES, fixedWorkload, LOADS, modeConfig, PromptCursor, PURE_MODE, uniquePrompts, type LoadDef, type ModeDef } from './load/modes.js';
import { runLoadProcess, startSwitchyard, spawnUpstreamAndBareProxy, type Child } from './load/processes.js';
import { profileSwitchyard, type ProfileSummary } from './load/profile.js';
import { round, spread } from './load/stats.js';

export interface ProxyBenchOptions {
  quick?: boolean;
  repeats?: number;
  warmupMs?: number;
  durationMs?: number;
  /** Evaluation data folder (../shared/data); its CLINC150 queries make the unique prompts when present. */
  dataDir?: string;
  /** Profile Switchyard under load: always, never, or only when a target fails (default). */
  profile?: 'always' | 'never' | 'on-fail';
  log?: (line: string) => void;
}

type Spread = ReturnType<typeof spread>;
export interface Aggregate {
  rps: Spread;
  p50_ms: Spread;
  p99_ms: Spread;
  errors: number;
  ttfb_p50_ms?: Spread;
  ttfb_p99_ms?: Spread;
  max_send_lag_ms?: number;
}
export interface Overhead {
  bare_added_p50_ms: Spread;
  switchyard_added_p50_ms: Spread;
  bare_added_p99_ms: Spread;
  switchyard_added_p99_ms: Spread;
  /** Switchyard's added p50 over the bare proxy's (median of runs). */
  added_p50_ratio: number;
  /** Switchyard's throughput over the bare proxy's (median of runs). */
  rps_ratio: number;
}
export interface Check {
  name: string;
  value: number;
  limit: string;
  pass: boolean;
  /** Shown after the value; a ratio (×) when absent. */
  unit?: string;
}
export interface ModeResult {
  label: string;
  skipped?: string;
  loads?: Record<string, LoadResult>;
  /** Switchyard's p50 minus the pure proxy's p50 in the same run (ms). */
  added_vs_pure_p50_ms?: Record<string, number>;
  /** Switchyard's p50 minus the upstream's own p50 (direct) in the same run (ms): the latency it adds. */
  added_vs_direct_p50_ms?: Record<string, number>;
  cache_hit_ratio?: number;
}
export interface ProxyReport {
  settings: Record<string, unknown>;
  targets: Record<string, Record<string, Aggregate>>;
  runs: Record<string, Record<string, LoadResult[]>>;
  overhead: Record<string, Overhead>;
  checks: Check[];
  modes: Record<string, ModeResult>;
  profile?: ProfileSummary;
}

const TARGETS = ['direct', 'bare', 'switchyard'] as const;
type Target = (typeof TARGETS)[number];

export function spec(origin: string, load: LoadDef, workload: Workload, warmupMs: number, durationMs: number): LoadSpec {
  return {
    origin,
    path: '/v1/chat/completions',
    mode: load.mode,
    concurrency: load.concurrency,
    rate: load.rate,
    connections: 128,
    warmup_ms: warmupMs,
    duration_ms: durationMs,
    stream: load.stream === true,
    workload,
  };
}

function aggregate(runs: LoadResult[]): Aggregate {
  const pick = (f: (r: LoadResult) => number | undefined): Spread => spread(runs.map(f).filter((v): v is number => v !== undefined));
  const agg: Aggregate = { rps: pick((r) => r.rps), p50_ms: pick((r) => r.p50_ms), p99_ms: pick((r) => r.p99_ms), errors: runs.reduce((s, r) => s + r.errors, 0) };
  if (runs[0]?.ttfb_p50_ms !== undefined) {
    agg.ttfb_p50_ms = pick((r) => r.ttfb_p50_ms);
    agg.ttfb_p99_ms = pick((r) => r.ttfb_p99_ms);
  }
  if (runs[0]?.max_send_lag_ms !== undefined) agg.max_send_lag_ms = Math.max(...runs.map((r) => r.max_send_lag_ms ?? 0));
  return agg;
}

/** Paired per-run differences (same repeat, same machine conditions), summarised. */
function overhead(runs: Record<Target, LoadResult[]>): Overhead {
  const diff = (t: Target, f: (r: LoadResult) => number): Spread => spread(runs[t].map((r, i) => f(r) - f(runs.direct[i])));
  const bareP50 = diff('bare', (r) => r.p50_ms);
  const swP50 = diff('switchyard', (r) => r.p50_ms);
  const rps = (t: Target): number => spread(runs[t].map((r) => r.rps)).median;
  return {
    bare_added_p50_ms: bareP50,
    switchyard_added_p50_ms: swP50,
    bare_added_p99_ms: diff('bare', (r) => r.p99_ms),
    switchyard_added_p99_ms: diff('switchyard', (r) => r.p99_ms),
    added_p50_ratio: round(bareP50.median > 0 ? swP50.median / bareP50.median : Number.POSITIVE_INFINITY, 2),
    rps_ratio: round(rps('bare') > 0 ? rps('switchyard') / rps('bare') : 0, 3),
  };
}

function checks(o: Record<string, Overhead>): Check[] {
  const out: Check[] = [];
  if (o.c1) out.push({ name: 'pure proxy p50 added latency at concurrency 1, relative to the bare proxy', value: o.c1.added_p50_ratio, limit: '≤ 1.5×', pass: o.c1.added_p50_ratio <= 1.5 });
  if (o.r500) {
    out.push({ name: 'pure proxy p50 added latency at 500 req/s, relative to the bare proxy', value: o.r500.added_p50_ratio, limit: '≤ 2.0×', pass: o.r500.added_p50_ratio <= 2 });
  }
  if (o.c16) out.push({ name: 'throughput at concurrency 16, relative to the bare proxy', value: o.c16.rps_ratio, limit: '≥ 0.6×', pass: o.c16.rps_ratio >= 0.6 });
  if (o.stream_c16) out.push({ name: 'streams at concurrency 16, relative to the bare proxy', value: o.stream_c16.rps_ratio, limit: '≥ 0.5×', pass: o.stream_c16.rps_ratio >= 0.5 });
  return out;
}

/** The semantic capacity targets: one intent rule (every request embedded) at concurrency 16 and its added p50 at concurrency 1. */
function semanticChecks(modes: Record<string, ModeResult>): Check[] {
  const m = modes.intent_rule;
  const out: Check[] = [];
  const c16 = m?.loads?.c16;
  if (c16) out.push({ name: 'one intent rule: throughput at concurrency 16 (req/s)', value: c16.rps, unit: '', limit: '≥ 900', pass: c16.rps >= 900 });
  const c1 = m?.added_vs_direct_p50_ms?.c1;
  if (c1 !== undefined) out.push({ name: 'one intent rule: p50 added latency at concurrency 1 (ms)', value: c1, unit: '', limit: '≤ 4', pass: c1 <= 4 });
  return out;
}

export async function withSwitchyard<T>(dir: string, name: string, config: Record<string, unknown>, fn: (origin: string) => Promise<T>, nodeArgs: string[] = []): Promise<T> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, stringify(config));
  const { child, origin } = await startSwitchyard(file, nodeArgs);
  try {
    const probe = await fetch(`${origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
      body: JSON.stringify({ model: fixedWorkload().model, messages: [{ role: 'user', content: 'ping' }] }),
    });
    const text = await probe.text();
    if (probe.status !== 200) throw new Error(`switchyard (${name}) answered ${probe.status} to a probe request: ${text.slice(0, 300)}`);
    return await fn(origin);
  } finally {
    await child.stop();
  }
}

/** The settle each extra mode's gateway serves before its measured loads. */
const MODE_SETTLE: LoadDef = LOADS.find((l) => l.id === 'c16')!;
const MODE_SETTLE_MS = 3000;

/** Runs per load and the time of each: quick mode keeps three runs (so min / median / max stay meaningful) and shortens each load. */
export function proxyTiming(quick: boolean): { repeats: number; warmup_ms: number; duration_ms: number } {
  return { repeats: 3, warmup_ms: quick ? 300 : 1000, duration_ms: quick ? 1500 : 3000 };
}

export async function benchProxy(opts: ProxyBenchOptions = {}): Promise<ProxyReport> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const timing = proxyTiming(opts.quick === true);
  const repeats = opts.repeats ?? timing.repeats;
  const warmupMs = opts.warmupMs ?? timing.warmup_ms;
  const durationMs = opts.durationMs ?? timing.duration_ms;
  const { prompts, source } = await uniquePrompts(opts.dataDir);
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-bench-'));
  const children: Child[] = [];
  try {
    const { upstream: up, bare } = await spawnUpstreamAndBareProxy(children);

    const pure = modeConfig(PURE_MODE, up.info.url);
    if (!pure.ok) throw new Error(`the pure proxy config is invalid: ${pure.reason}`);
    const runs = Object.fromEntries(TARGETS.map((t) => [t, Object.fromEntries(LOADS.map((l) => [l.id, [] as LoadResult[]]))])) as Record<Target, Record<string, LoadResult[]>>;
    await withSwitchyard(dir, 'pure', pure.config, async (swOrigin) => {
      const origins: Record<Target, string> = { direct: up.info.origin, bare: bare.info.url, switchyard: swOrigin };
      for (let r = 0; r < repeats; r++) {
        for (const load of LOADS) {
          for (const t of TARGETS) {
            const res = await runLoadProcess(spec(origins[t], load, fixedWorkload(), warmupMs, durationMs));
            runs[t][load.id].push(res);
            log(`proxy run ${r + 1}/${repeats} ${load.id.padEnd(10)} ${t.padEnd(10)} ${String(res.rps).padStart(8)} req/s  p50 ${res.p50_ms} ms  p99 ${res.p99_ms} ms  errors ${res.errors}`);
          }
        }
      }
    });

    const targets: ProxyReport['targets'] = {};
    for (const t of TARGETS) targets[t] = Object.fromEntries(LOADS.map((l) => [l.id, aggregate(runs[t][l.id])]));
    const over: Record<string, Overhead> = {};
    for (const l of LOADS) over[l.id] = overhead({ direct: runs.direct[l.id], bare: runs.bare[l.id], switchyard: runs.switchyard[l.id] });
    const checkList = checks(over);

    const modes: Record<string, ModeResult> = {};
    for (const mode of EXTRA_MODES) modes[mode.id] = await runMode(mode, dir, up.info.url, prompts, warmupMs, durationMs, targets, log);
    checkList.push(...semanticChecks(modes));

    const report: ProxyReport = {
      settings: { repeats, warmup_ms: warmupMs, duration_ms: durationMs, loads: LOADS, open_loop_connections: 128, unique_prompts: source, prompt_repeats: 'none: each load to a semantic mode\'s gateway continues after the prompts it was already sent', mode_settle: `closed loop c=16 for ${MODE_SETTLE_MS} ms before each extra mode\'s measured loads`, switchyard_logging: 'info, to /dev/null' },
      targets,
      runs,
      overhead: over,
      checks: checkList,
      modes,
    };
    const failed = checkList.some((c) => !c.pass && c.unit === undefined);
    if (opts.profile === 'always' || (opts.profile !== 'never' && failed)) {
      log('profiling switchyard (pure proxy, concurrency 16)');
      report.profile = await profileSwitchyard(dir, pure.config, (origin) => runLoadProcess(spec(origin, LOADS[1], fixedWorkload(), warmupMs, Math.max(durationMs, 4000))));
    }
    return report;
  } finally {
    for (const c of children.reverse()) await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function runMode(mode: ModeDef, dir: string, upstreamUrl: string, prompts: string[], warmupMs: number, durationMs: number, measured: Record<string, Record<string, Aggregate>>, log: (l: string) => void): Promise<ModeResult> {
  const cfg = modeConfig(mode, upstreamUrl);
  if (!cfg.ok) {
    log(`mode ${mode.id} skipped: the config schema does not accept its sections (${cfg.reason})`);
    return { label: mode.label, skipped: `config not accepted: ${cfg.reason}` };
  }
  try {
    return await withSwitchyard(dir, mode.id, cfg.config, async (origin) => {
      const loads: Record<string, LoadResult> = {};
      const added: Record<string, number> = {};
      const addedDirect: Record<string, number> = {};
      const cursor = new PromptCursor(mode.workload(prompts));
      // The process first serves a closed-loop settle, as the pure proxy's processes have served earlier runs by then: a
      // fresh process runs its first thousands of requests (and its model workers their first texts) on code not yet
      // optimised, and the measured loads are about the warm gateway (bench/overload.ts reports the cold start).
      cursor.advance(await runLoadProcess(spec(origin, MODE_SETTLE, cursor.next(), 0, MODE_SETTLE_MS)));
      for (const id of mode.loads) {
        const load = LOADS.find((l) => l.id === id)!;
        const res = await runLoadProcess(spec(origin, load, cursor.next(), warmupMs, durationMs));
        cursor.advance(res);
        loads[id] = res;
        added[id] = round(res.p50_ms - measured.switchyard[id].p50_ms.median);
        addedDirect[id] = round(res.p50_ms - measured.direct[id].p50_ms.median);
        log(`mode ${mode.id.padEnd(12)} ${id.padEnd(10)} ${String(res.rps).padStart(8)} req/s  p50 ${res.p50_ms} ms  p99 ${res.p99_ms} ms  errors ${res.errors}${res.cache ? `  cache ${JSON.stringify(res.cache)}` : ''}`);
      }
      const result: ModeResult = { label: mode.label, loads, added_vs_pure_p50_ms: added, added_vs_direct_p50_ms: addedDirect };
      const counts = Object.values(loads).map((l) => l.cache ?? {});
      const hits = counts.reduce((s, c) => s + Object.entries(c).filter(([k]) => k.startsWith('hit')).reduce((a, [, v]) => a + v, 0), 0);
      const all = counts.reduce((s, c) => s + Object.values(c).reduce((a, v) => a + v, 0), 0);
      if (all > 0) result.cache_hit_ratio = round(hits / all);
      return result;
    });
  } catch (err) {
    log(`mode ${mode.id} failed: ${(err as Error).message}`);
    return { label: mode.label, skipped: `failed: ${(err as Error).message}` };
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  console.log(JSON.stringify(await benchProxy({ quick, profile: process.argv.includes('--profile') ? 'always' : 'on-fail' }), null, 2));
}
