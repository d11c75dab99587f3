/**
 * Where files named by the config are found. A path written in a config file is relative to that file's folder; a setting
 * left at its default names a bundled asset (the example reference prompts, models/, the on-disk embedding cache) and resolves
 * against the installed package. Neither depends on the folder the gateway is started from.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json, found by walking up from this module (src/config/ when run from sources, dist/src/config/ when built). */
function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find the switchyard package folder above ${from}`);
  }
}

/** The installed package's folder: defaults and bundled assets resolve against it. */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** Settings that name a file or folder. */
const PATH_SETTINGS: ReadonlyArray<readonly string[]> = [
  ['semantic', 'embedder', 'models_dir'],
  ['semantic', 'reference_prompts', 'dir'],
  ['semantic', 'reference_prompts', 'cache_dir'],
  ['safety', 'jailbreak', 'examples'],
  ['safety', 'jailbreak', 'benign_examples'],
  ['cache', 'guard', 'scorer_file'],
];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Makes the relative paths written in a config file (before validation) absolute against `baseDir`, the file's folder.
 * Settings that are absent keep their defaults, which resolve against the package; '' (a disabled cache folder) stays ''.
 */
export function resolveConfigPaths(raw: unknown, baseDir: string): void {
  for (const setting of PATH_SETTINGS) {
    let section: unknown = raw;
    for (const key of setting.slice(0, -1)) section = isRecord(section) ? section[key] : undefined;
    const leaf = setting[setting.length - 1];
    if (!isRecord(section) || typeof section[leaf] !== 'string' || section[leaf] === '') continue;
    section[leaf] = path.resolve(baseDir, section[leaf]);
  }
}
