/**
 * Summarises a saved .cpuprofile (from `node --cpu-prof`, e.g. written by bench/cpu-cost.ts --profile) into the hottest
 * functions and files by self time, as shares of busy time, printed as JSON. Samples before the measured load (start-up,
 * warm-up) are left out when the .json that bench/cpu-cost.ts writes beside the profile is there.
 *   node dist/bench/load/profile-report.js <file.cpuprofile> [top]
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './processes.js';
import { summarise, type CpuProfile } from './profile.js';

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: profile-report <file.cpuprofile> [top]');
  const top = process.argv[3] === undefined ? 25 : Number(process.argv[3]);
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  // bench/cpu-cost.ts writes where the measured load began beside the profile; without it, every sample counts.
  const side = file.replace(/\.cpuprofile$/, '.json');
  const fromUs = existsSync(side) ? ((JSON.parse(await readFile(side, 'utf8')) as { from_us?: number }).from_us ?? 0) : 0;
  console.log(JSON.stringify(summarise(profile, repoRoot(), fromUs, top), null, 2));
}
