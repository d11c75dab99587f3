/**
 * CPU time per request, load-independent: the bare node:http proxy and Switchyard (pure proxy) each serve the same closed-loop
 * loads (JSON and streams, at one fixed request rate) from the upstream simulator; the proxy process's own CPU time (user + system, from
 * /proc/<pid>/stat) over a load, divided by the replies it served, is its cost per request. Wall-clock throughput on a shared
 * machine moves with everyone else's load; CPU time per request moves less, and the targets are measured in alternating rounds
 * (bare, Switchyard, [baseline], bare, ...) with each round's ratio to the bare proxy's round beside it, the median kept.
 *   node dist/bench/cpu-cost.js [--duration <ms>] [--rounds <n>] [--rate <req/s>] [--baseline <cli.js>] [--profile <dir>] [--intent]
 * --intent: adds a third load, JSON requests to a Switchyard with one intent rule whose semantic budget is 0 ms, so every
 * request after the first is served degraded (intent "unavailable", no embedding): the cost of the degraded semantic path
 * that a saturated gateway serves most requests by.
 * --baseline: another build's compiled CLI (say an older commit's dist/src/cli.js), measured in the same rounds, so a
 * before/after comparison shares the machine's conditions. With --profile, Switchyard also runs once per load under
 * --cpu-prof and the .cpuprofile files are kept in <dir> (summarise one with `node dist/bench/load/profile-report.js
 * <file.cpuprofile>`; the .json beside it says where the measured load began, so start-up and warm-up are left out).
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { LoadResult, LoadSpec } from './load/loadgen.js';
import { EXTRA_MODES, fixedWorkload, modeConfig, PURE_MODE, type ModeDef } from './load/modes.js';
import { repoRoot, runLoadProcess, startSwitchyard, spawnUpstreamAndBareProxy, type Child } from './load/processes.js';
import { summarise, type CpuProfile, type Hotspot } from './load/profile.js';
import { round, spread } from './load/stats.js';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ; 100 on Linux). */
const USER_HZ = 100;

/** CPU time (ms) a process has used so far, user + system. */
export async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are space-separated.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

export interface CpuCost {
  requests: number;
  errors: number;
  cpu_ms: number;
  cpu_us_per_request: number;
  /** Replies per x-switchyard-semantic value (the intent load: all "degraded" after the first). */
  semantic?: Record<string, number>;
}

/** Each load: streamed or not, and the Switchyard config it runs against. */
const LOAD_KINDS = { json: { stream: false, mode: 'pure' }, stream: { stream: true, mode: 'pure' }, intent: { stream: false, mode: 'intent' } } as const;
type LoadKind = keyof typeof LOAD_KINDS;
type ModeId = (typeof LOAD_KINDS)[LoadKind]['mode'];

/** One intent rule with a 0 ms semantic budget: every request is degraded before its embedding is asked for. */
const DEGRADED_INTENT_MODE: ModeDef = (() => {
  const m = EXTRA_MODES.find((x) => x.id === 'intent_rule')!;
  return { ...m, id: 'intent_degraded', sections: { ...m.sections, semantic: { enabled: true, max_wait_ms: 0 } } };
})();
type Target = 'bare' | 'switchyard' | 'baseline';

/**
 * The load: an open loop at a fixed rate every target sustains, so each serves the same requests per second. (In a closed loop
 * the faster target serves more per second, and a busier process pays less per request for waking up: the comparison would
 * reward throughput twice.)
 */
function spec(origin: string, stream: boolean, durationMs: number, rate: number): LoadSpec {
  return { origin, path: '/v1/chat/completions', mode: 'open', rate, connections: 32, warmup_ms: 0, duration_ms: durationMs, stream, workload: fixedWorkload() };
}

/** Runs one load against `origin` and charges the CPU time `pid` used meanwhile to the replies it served. */
async function measure(pid: number, origin: string, stream: boolean, durationMs: number, rate: number): Promise<CpuCost> {
  const before = await processCpuMs(pid);
  const res: LoadResult = await runLoadProcess(spec(origin, stream, durationMs, rate));
  const cpu = (await processCpuMs(pid)) - before;
  const served = res.requests + res.errors;
  return { requests: res.requests, errors: res.errors, cpu_ms: cpu, cpu_us_per_request: round(served > 0 ? (cpu * 1000) / served : 0, 1), ...(res.semantic ? { semantic: res.semantic } : {}) };
}

export interface TargetCost {
  /** Median CPU µs per request over the rounds. */
  cpu_us_per_request: number;
  /** The bare proxy's CPU per request over this target's, per round (the throughput ratio a CPU-bound proxy would reach). */
  ratio_to_bare: ReturnType<typeof spread>;
  rounds: CpuCost[];
}

export interface CpuCostReport {
  load_average: number[];
  duration_ms: number;
  rounds: number;
  /** Requests per second offered to every target. */
  rate: number;
  loads: Partial<Record<LoadKind, Partial<Record<Target, TargetCost>>>>;
  /** Switchyard's CPU profile per load (with --profile): self time per function and file, shares of busy time. */
  profiles?: Partial<Record<LoadKind, { busy_ms: number; gc_pct: number; top_functions: Hotspot[]; top_files: Hotspot[] }>>;
}

interface Running {
  target: Target;
  pid: number;
  origin: string;
}

export async function benchCpuCost(opts: { durationMs?: number; rounds?: number; rate?: number; baselineCli?: string; profileDir?: string; intent?: boolean; log?: (l: string) => void } = {}): Promise<CpuCostReport> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const durationMs = opts.durationMs ?? 3000;
  const rounds = opts.rounds ?? 5;
  const rate = opts.rate ?? 100;
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-cpu-'));
  const children: Child[] = [];
  try {
    const { upstream: up, bare } = await spawnUpstreamAndBareProxy(children);
    const configs = {} as Record<ModeId, string>;
    for (const [id, mode] of [['pure', PURE_MODE], ['intent', DEGRADED_INTENT_MODE]] as const) {
      const c = modeConfig(mode, up.info.url);
      if (!c.ok) throw new Error(`the ${mode.id} config is invalid: ${c.reason}`);
      configs[id] = join(dir, `${id}.yaml`);
      await writeFile(configs[id], stringify(c.config));
    }
    const kinds = (Object.keys(LOAD_KINDS) as LoadKind[]).filter((k) => k !== 'intent' || opts.intent === true);
    // The bare proxy, then Switchyard (and the baseline build) per config a load needs.
    const targetsOf = {} as Record<ModeId, Running[]>;
    for (const id of new Set(kinds.map((k) => LOAD_KINDS[k].mode))) {
      const sw = await startSwitchyard(configs[id]);
      children.push(sw.child);
      const ts: Running[] = [
        { target: 'bare', pid: bare.child.proc.pid!, origin: bare.info.url },
        { target: 'switchyard', pid: sw.child.proc.pid!, origin: sw.origin },
      ];
      if (opts.baselineCli !== undefined) {
        const base = await startSwitchyard(configs[id], [], 120_000, opts.baselineCli);
        children.push(base.child);
        ts.push({ target: 'baseline', pid: base.child.proc.pid!, origin: base.origin });
      }
      targetsOf[id] = ts;
    }

    const loads = {} as CpuCostReport['loads'];
    for (const kind of kinds) {
      const { stream, mode } = LOAD_KINDS[kind];
      const targets = targetsOf[mode];
      // A short warm-up per target first, so each is measured with optimised code and warm connection pools.
      for (const t of targets) await measure(t.pid, t.origin, stream, 1000, rate);
      const seen: Partial<Record<Target, CpuCost[]>> = {};
      for (let r = 0; r < rounds; r++) for (const t of targets) (seen[t.target] ??= []).push(await measure(t.pid, t.origin, stream, durationMs, rate));
      const bareRounds = seen.bare!;
      const costs: Partial<Record<Target, TargetCost>> = (loads[kind] = {});
      for (const t of targets) {
        const mine = seen[t.target]!;
        costs[t.target] = {
          cpu_us_per_request: spread(mine.map((c) => c.cpu_us_per_request)).median,
          ratio_to_bare: spread(mine.map((c, i) => round(bareRounds[i].cpu_us_per_request / c.cpu_us_per_request, 3))),
          rounds: mine,
        };
      }
      log(`${kind}: ${targets.map((t) => `${t.target} ${costs[t.target]!.cpu_us_per_request} µs/request (×${costs[t.target]!.ratio_to_bare.median} of bare)`).join(', ')}`);
    }

    const profiles: NonNullable<CpuCostReport['profiles']> = {};
    if (opts.profileDir !== undefined) {
      await mkdir(opts.profileDir, { recursive: true });
      for (const kind of kinds) {
        const { stream, mode } = LOAD_KINDS[kind];
        const profDir = join(dir, `prof-${kind}`);
        const p = await startSwitchyard(configs[mode], ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
        // Where the measured load began (CLOCK_MONOTONIC µs, the profile's clock): start-up and warm-up samples are left out.
        let fromUs = 0;
        try {
          await runLoadProcess(spec(p.origin, stream, 1000, rate));
          fromUs = Number(process.hrtime.bigint() / 1000n);
          await runLoadProcess(spec(p.origin, stream, durationMs, rate));
        } finally {
          await p.child.stop();
        }
        const written = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
        if (written[0] === undefined) throw new Error('switchyard exited without writing a CPU profile');
        await rename(join(profDir, written[0]), join(opts.profileDir, `switchyard-${kind}.cpuprofile`));
        await writeFile(join(opts.profileDir, `switchyard-${kind}.json`), JSON.stringify({ from_us: fromUs }));
        const profile = JSON.parse(await readFile(join(opts.profileDir, `switchyard-${kind}.cpuprofile`), 'utf8')) as CpuProfile;
        const { busy_ms, gc_pct, top_functions, top_files } = summarise(profile, repoRoot(), fromUs, 12);
        profiles[kind] = { busy_ms, gc_pct, top_functions, top_files };
      }
    }
    const report: CpuCostReport = { load_average: loadavg().map((x) => round(x, 2)), duration_ms: durationMs, rounds, rate, loads };
    if (opts.profileDir !== undefined) report.profiles = profiles;
    return report;
  } finally {
    for (const c of children.reverse()) await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { duration: { type: 'string' }, rounds: { type: 'string' }, rate: { type: 'string' }, baseline: { type: 'string' }, profile: { type: 'string' }, intent: { type: 'boolean' } } });
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not '${v}'`);
    return n;
  };
  const report = await benchCpuCost({ durationMs: num('duration', values.duration), rounds: num('rounds', values.rounds), rate: num('rate', values.rate), baselineCli: values.baseline, profileDir: values.profile, intent: values.intent });
  // Kept beside the suite's results: `npm run bench` renders it into docs/benchmarks.md ("Where the proxy's time goes").
  const file = join(repoRoot(), 'bench', 'results', 'cpu-cost.json');
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), baseline: values.baseline ?? null, ...report }, null, 2)}\n`);
  process.stderr.write(`wrote ${file}\n`);
  console.log(JSON.stringify(report, null, 2));
}
