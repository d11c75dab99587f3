/**
 * The overload scenario: open-loop load far past what the embedder can do on this machine (2,000 req/s for 10 s), with one
 * intent rule and with the semantic cache on, next to the bare node:http proxy in the same run. The semantic budget
 * (`semantic.max_wait_ms`) should make Switchyard degrade instead of queueing: every request served, no errors, a bounded
 * p99, and the share of degraded requests reported. The intent rule also runs at 500 req/s, where the degraded share should
 * stay small.
 *   node dist/bench/overload.js [--quick]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LoadResult } from './load/loadgen.js';
import { EXTRA_MODES, LOADS, modeConfig, uniquePrompts, type LoadDef, type ModeDef } from './load/modes.js';
import { runLoadProcess, spawnUpstreamAndBareProxy, type Child } from './load/processes.js';
import { spec, withSwitchyard, type Check } from './proxy.js';

export interface OverloadOptions {
  quick?: boolean;
  dataDir?: string;
  log?: (line: string) => void;
}

export interface OverloadRun {
  target: string;
  load: string;
  /** Requests sent in the measured window, replies that were errors, served replies per second. */
  requests: number;
  errors: number;
  served_per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** Replies by x-switchyard-semantic, and the degraded share of those that carried it. */
  semantic?: Record<string, number>;
  degraded_share?: number;
  cache?: Record<string, number>;
  max_send_lag_ms?: number;
  /** Failed requests by kind (status_NNN, a socket error code, ...). */
  error_kinds?: Record<string, number>;
}

export interface OverloadReport {
  settings: Record<string, unknown>;
  runs: OverloadRun[];
  checks: Check[];
}

const RATE_2000: LoadDef = LOADS.find((l) => l.id === 'r2000')!;
const RATE_500: LoadDef = LOADS.find((l) => l.id === 'r500')!;

const round = (n: number, places = 2): number => Math.round(n * 10 ** places) / 10 ** places;

function summarise(target: string, load: LoadDef, r: LoadResult): OverloadRun {
  const run: OverloadRun = { target, load: load.id, requests: r.requests, errors: r.errors, served_per_s: r.rps, p50_ms: r.p50_ms, p99_ms: r.p99_ms };
  if (r.semantic) {
    run.semantic = r.semantic;
    const all = Object.values(r.semantic).reduce((a, b) => a + b, 0);
    run.degraded_share = all === 0 ? 0 : round((r.semantic.degraded ?? 0) / all, 4);
  }
  if (r.cache) run.cache = r.cache;
  if (r.max_send_lag_ms !== undefined) run.max_send_lag_ms = r.max_send_lag_ms;
  if (r.error_kinds) run.error_kinds = r.error_kinds;
  return run;
}

export async function benchOverload(opts: OverloadOptions = {}): Promise<OverloadReport> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const warmupMs = opts.quick ? 1000 : 2000;
  const durationMs = opts.quick ? 4000 : 10_000;
  const { prompts, source } = await uniquePrompts(opts.dataDir);
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-overload-'));
  const children: Child[] = [];
  const runs: OverloadRun[] = [];
  try {
    const { upstream: up, bare } = await spawnUpstreamAndBareProxy(children);
    const modes = EXTRA_MODES.filter((m) => m.id === 'intent_rule' || m.id === 'cache_on');

    const bareRun = await runLoadProcess(spec(bare.info.url, RATE_2000, modes[0].workload(prompts), warmupMs, durationMs));
    runs.push(summarise('bare', RATE_2000, bareRun));
    log(`overload bare       r2000 ${bareRun.rps} req/s  p50 ${bareRun.p50_ms} ms  p99 ${bareRun.p99_ms} ms  errors ${bareRun.errors}`);
    for (const mode of modes) {
      const loads = mode.id === 'intent_rule' ? [RATE_2000, RATE_500] : [RATE_2000];
      runs.push(...(await runMode(mode, loads, dir, up.info.url, prompts, warmupMs, durationMs, log)));
    }
  } finally {
    for (const c of children.reverse()) await c.stop();
    await rm(dir, { recursive: true, force: true });
  }

  const checks: Check[] = [];
  for (const r of runs.filter((x) => x.target !== 'bare' && x.load === 'r2000')) {
    checks.push({ name: `${r.target} at 2,000 req/s: errors`, value: r.errors, limit: '0', pass: r.errors === 0 });
    checks.push({ name: `${r.target} at 2,000 req/s: p99 (ms)`, value: r.p99_ms, limit: '≤ 50 ms', pass: r.p99_ms <= 50 });
    checks.push({ name: `${r.target} at 2,000 req/s: served share`, value: round(r.requests === 0 ? 0 : (r.requests - r.errors) / r.requests, 4), limit: '1 (every request served)', pass: r.errors === 0 && r.requests > 0 });
  }
  const r500 = runs.find((x) => x.target === 'intent_rule' && x.load === 'r500');
  if (r500?.degraded_share !== undefined) {
    checks.push({ name: 'intent_rule at 500 req/s: degraded share', value: r500.degraded_share, limit: '≤ 0.05', pass: r500.degraded_share <= 0.05 });
  }
  return {
    settings: { warmup_ms: warmupMs, duration_ms: durationMs, rates: [2000, 500], unique_prompts: source, semantic: 'defaults (max_wait_ms 20, embedder max_queue 128, threads/concurrency auto, worker_nice 10)' },
    runs,
    checks,
  };
}

async function runMode(mode: ModeDef, loads: LoadDef[], dir: string, upstreamUrl: string, prompts: string[], warmupMs: number, durationMs: number, log: (l: string) => void): Promise<OverloadRun[]> {
  const cfg = modeConfig(mode, upstreamUrl);
  if (!cfg.ok) throw new Error(`mode ${mode.id}: the config schema does not accept its sections (${cfg.reason})`);
  return withSwitchyard(dir, `overload-${mode.id}`, cfg.config, async (origin) => {
    const out: OverloadRun[] = [];
    for (const load of loads) {
      const r = await runLoadProcess(spec(origin, load, mode.workload(prompts), warmupMs, durationMs));
      const run = summarise(mode.id, load, r);
      out.push(run);
      log(`overload ${mode.id.padEnd(12)} ${load.id.padEnd(5)} ${r.rps} req/s  p50 ${r.p50_ms} ms  p99 ${r.p99_ms} ms  errors ${r.errors}  degraded ${run.degraded_share ?? '–'}${r.cache ? `  cache ${JSON.stringify(r.cache)}` : ''}`);
    }
    return out;
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchOverload({ quick: process.argv.includes('--quick') }), null, 2));
}
