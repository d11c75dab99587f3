/**
 * CPU time per request, load-independent: the bare node:http proxy and Switchyard (pure proxy) each serve the same closed-loop
 * loads (JSON and streams, concurrency 16) from the upstream simulator; the proxy process's own CPU time (user + system, from
 * /proc/<pid>/stat) over a load, divided by the replies it served, is its cost per request. Wall-clock throughput on a shared
 * machine moves with everyone else's load; CPU time per request barely does, so the ratio to the bare proxy is what to compare.
 *   node dist/bench/cpu-cost.js [--duration <ms>] [--profile <dir>]
 * With --profile, Switchyard also runs once per load under --cpu-prof and the .cpuprofile files are kept in <dir>
 * (summarise one with `node dist/bench/load/profile-report.js <file.cpuprofile>`; the .json beside it says where the measured load
 * began, so start-up and warm-up are left out).
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { LoadResult, LoadSpec } from './load/loadgen.js';
import { fixedWorkload, modeConfig, PURE_MODE } from './load/modes.js';
import { loadScript, runLoadProcess, spawnReady, startSwitchyard, type Child } from './load/processes.js';
import { round } from './load/stats.js';

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
}

const LOAD_KINDS = { json_c16: false, stream_c16: true } as const;
type LoadKind = keyof typeof LOAD_KINDS;

function spec(origin: string, stream: boolean, durationMs: number): LoadSpec {
  return { origin, path: '/v1/chat/completions', mode: 'closed', concurrency: 16, warmup_ms: 0, duration_ms: durationMs, stream, workload: fixedWorkload() };
}

/** Runs one load against `origin` and charges the CPU time `pid` used meanwhile to the replies it served. */
async function measure(pid: number, origin: string, stream: boolean, durationMs: number): Promise<CpuCost> {
  const before = await processCpuMs(pid);
  const res: LoadResult = await runLoadProcess(spec(origin, stream, durationMs));
  const cpu = (await processCpuMs(pid)) - before;
  const served = res.requests + res.errors;
  return { requests: res.requests, errors: res.errors, cpu_ms: cpu, cpu_us_per_request: round(served > 0 ? (cpu * 1000) / served : 0, 1) };
}

export interface CpuCostReport {
  load_average: number[];
  duration_ms: number;
  bare: Record<LoadKind, CpuCost>;
  switchyard: Record<LoadKind, CpuCost>;
  /** The bare proxy's CPU per request over Switchyard's: the throughput ratio a CPU-bound proxy would reach. */
  ratio: Record<LoadKind, number>;
}

export async function benchCpuCost(opts: { durationMs?: number; profileDir?: string; log?: (l: string) => void } = {}): Promise<CpuCostReport> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const durationMs = opts.durationMs ?? 4000;
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-cpu-'));
  const children: Child[] = [];
  try {
    const up = await spawnReady<{ url: string; origin: string }>(loadScript('upstream'), []);
    children.push(up.child);
    const bare = await spawnReady<{ url: string }>(loadScript('bare-proxy'), [up.info.origin]);
    children.push(bare.child);
    const pure = modeConfig(PURE_MODE, up.info.url);
    if (!pure.ok) throw new Error(`the pure proxy config is invalid: ${pure.reason}`);
    const file = join(dir, 'pure.yaml');
    await writeFile(file, stringify({ ...pure.config, logging: { level: 'info' } }));

    const result = { bare: {}, switchyard: {} } as Pick<CpuCostReport, 'bare' | 'switchyard'>;
    const sw = await startSwitchyard(file);
    try {
      for (const [kind, stream] of Object.entries(LOAD_KINDS) as [LoadKind, boolean][]) {
        // A short warm-up per target first, so both are measured with optimised code and warm connection pools.
        await measure(bare.child.proc.pid!, bare.info.url, stream, 1000);
        await measure(sw.child.proc.pid!, sw.origin, stream, 1000);
        result.bare[kind] = await measure(bare.child.proc.pid!, bare.info.url, stream, durationMs);
        result.switchyard[kind] = await measure(sw.child.proc.pid!, sw.origin, stream, durationMs);
        log(`${kind}: bare ${result.bare[kind].cpu_us_per_request} µs/request, switchyard ${result.switchyard[kind].cpu_us_per_request} µs/request`);
      }
    } finally {
      await sw.child.stop();
    }

    if (opts.profileDir !== undefined) {
      await mkdir(opts.profileDir, { recursive: true });
      // Where each measured load began (CLOCK_MONOTONIC µs, the profile's clock): start-up and warm-up samples are left out.
      const fromUs: Partial<Record<LoadKind, number>> = {};
      for (const [kind, stream] of Object.entries(LOAD_KINDS) as [LoadKind, boolean][]) {
        const profDir = join(dir, `prof-${kind}`);
        const p = await startSwitchyard(file, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
        try {
          await runLoadProcess(spec(p.origin, stream, 1000));
          fromUs[kind] = Number(process.hrtime.bigint() / 1000n);
          await runLoadProcess(spec(p.origin, stream, durationMs));
        } finally {
          await p.child.stop();
        }
        const written = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
        if (written[0] === undefined) throw new Error('switchyard exited without writing a CPU profile');
        await rename(join(profDir, written[0]), join(opts.profileDir, `switchyard-${kind}.cpuprofile`));
        await writeFile(join(opts.profileDir, `switchyard-${kind}.json`), JSON.stringify({ from_us: fromUs[kind], requests_load_ms: durationMs }));
      }
    }
    const ratio = Object.fromEntries(
      (Object.keys(LOAD_KINDS) as LoadKind[]).map((k) => [k, round(result.bare[k].cpu_us_per_request / result.switchyard[k].cpu_us_per_request, 3)]),
    ) as Record<LoadKind, number>;
    return { load_average: loadavg().map((x) => round(x, 2)), duration_ms: durationMs, ...result, ratio };
  } finally {
    for (const c of children.reverse()) await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { duration: { type: 'string' }, profile: { type: 'string' } } });
  const durationMs = values.duration === undefined ? undefined : Number(values.duration);
  if (durationMs !== undefined && !(durationMs > 0)) throw new Error(`--duration must be a positive number of milliseconds, not '${values.duration}'`);
  console.log(JSON.stringify(await benchCpuCost({ durationMs, profileDir: values.profile }), null, 2));
}
