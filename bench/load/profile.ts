/**
 * CPU profile of Switchyard under load: starts it with `--cpu-prof`, drives one load, stops it gracefully (the profile is
 * written at exit) and summarises the .cpuprofile, from the start of the load on, into the hottest functions and files by self time, as shares of busy time.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { LoadResult } from './loadgen.js';
import { repoRoot, startSwitchyard } from './processes.js';
import { round } from './stats.js';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Hotspot {
  where: string;
  share_pct: number;
}
export interface ProfileSummary {
  load: LoadResult;
  busy_ms: number;
  idle_pct: number;
  gc_pct: number;
  top_functions: Hotspot[];
  top_files: Hotspot[];
}

/** `file:///…/dist/src/server/app.js` → `src/server/app.ts`; node_modules → the package; node internals as given. */
function place(url: string, root: string): string {
  if (url === '') return '(native)';
  let p = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = p.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = p.slice(nm + 14).split('/');
    return `node_modules/${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (p.startsWith(`${root}/`)) p = p.slice(root.length + 1);
  return p.replace(/^dist\//, '').replace(/\.js$/, '.ts');
}

/**
 * Self time per function and file. `fromUs` (CLOCK_MONOTONIC microseconds, the clock of process.hrtime and of V8's profile
 * timestamps) drops the samples taken before it, i.e. start-up.
 */
export function summarise(profile: CpuProfile, root: string, fromUs = 0, top = 15): Omit<ProfileSummary, 'load'> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < fromUs) continue;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + delta);
  }
  let total = 0;
  let idle = 0;
  let gc = 0;
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    total += us;
    if (f.functionName === '(idle)') {
      idle += us;
      continue;
    }
    if (f.functionName === '(garbage collector)') gc += us;
    const file = place(f.url, root);
    const fn = `${file}${f.url ? `:${f.lineNumber + 1}` : ''} ${f.functionName || '(anonymous)'}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>): Hotspot[] =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([where, us]) => ({ where, share_pct: round((100 * us) / busy, 1) }));
  return { busy_ms: round(busy / 1000, 0), idle_pct: round((100 * idle) / total, 1), gc_pct: round((100 * gc) / busy, 1), top_functions: rank(fns), top_files: rank(files) };
}

export async function profileSwitchyard(dir: string, config: Record<string, unknown>, drive: (origin: string) => Promise<LoadResult>): Promise<ProfileSummary> {
  const profDir = join(dir, 'cpu-profile');
  await mkdir(profDir, { recursive: true });
  const file = join(dir, 'profile.yaml');
  await writeFile(file, stringify(config));
  const { child, origin } = await startSwitchyard(file, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  let load: LoadResult;
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  try {
    load = await drive(origin);
  } finally {
    await child.stop();
  }
  const written = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
  if (written.length === 0) throw new Error('switchyard exited without writing a CPU profile');
  const profile = JSON.parse(await readFile(join(profDir, written[0]), 'utf8')) as CpuProfile;
  return { load, ...summarise(profile, repoRoot(), fromUs) };
}
