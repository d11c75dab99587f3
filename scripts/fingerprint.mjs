/**
 * What a build of src/ is made from, as one hash: the names and contents of every file under src/, tsconfig.json and the
 * TypeScript version. scripts/build.mjs records it in dist/.fingerprint; `builtIsFresh` tells whether dist/ was compiled
 * from the sources as they are now.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const STAMP = path.join(ROOT, 'dist', '.fingerprint');
const require = createRequire(path.join(ROOT, 'package.json'));

const sources = (dir) => readdirSync(path.join(ROOT, dir), { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : [path.join(dir, e.name)]))
  .sort();

/** The installed TypeScript's version; undefined without it (a production install). */
export function typescriptVersion() {
  try {
    return JSON.parse(readFileSync(require.resolve('typescript/package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** A hash over the names and contents of everything the build reads. */
export function fingerprint(tsVersion) {
  const hash = createHash('sha256').update(`typescript ${tsVersion}\n`);
  for (const file of ['tsconfig.json', ...sources('src')]) hash.update(`${file}\0`).update(readFileSync(path.join(ROOT, file))).update('\0');
  return hash.digest('hex');
}

/** Whether dist/ holds a build of the sources as they are now (false without TypeScript to tell). */
export function builtIsFresh() {
  const tsVersion = typescriptVersion();
  if (tsVersion === undefined || !existsSync(path.join(ROOT, 'dist/src/cli.js')) || !existsSync(STAMP)) return false;
  return readFileSync(STAMP, 'utf8').trim() === fingerprint(tsVersion);
}
