#!/usr/bin/env node
/**
 * Compiles the gateway (src/ → dist/src) and records a fingerprint of what it compiled in dist/.fingerprint.
 *
 *   node scripts/build.mjs             compile
 *   node scripts/build.mjs --if-stale  compile only when the sources changed since the last build: any file under src/
 *                                      added, removed or edited, tsconfig.json, or the TypeScript version. `npm install`,
 *                                      `npm start` and `npm run demo` run this; the check itself takes milliseconds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fingerprint, ROOT as root, STAMP as stamp, typescriptVersion } from './fingerprint.mjs';

const require = createRequire(path.join(root, 'package.json'));

const ifStale = process.argv.includes('--if-stale');
const tsVersion = typescriptVersion();
if (ifStale && existsSync(path.join(root, 'dist/src/cli.js')) && existsSync(stamp)) {
  // Without TypeScript (a production install) the build that is there is the one to run.
  if (tsVersion === undefined || readFileSync(stamp, 'utf8').trim() === fingerprint(tsVersion)) process.exit(0);
}
if (tsVersion === undefined) {
  process.stderr.write('switchyard: cannot build: TypeScript is not installed (run npm install, with dev dependencies)\n');
  process.exit(1);
}
const before = fingerprint(tsVersion);
const started = performance.now();
if (ifStale) process.stderr.write('switchyard: compiling src/ (changed since the last build) ...\n');
// A clean output folder: files whose source was deleted must not linger in dist/.
rmSync(path.join(root, 'dist', 'src'), { recursive: true, force: true });
rmSync(stamp, { force: true });
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
writeFileSync(stamp, `${before}\n`);
if (ifStale) process.stderr.write(`switchyard: compiled in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
