#!/usr/bin/env node
/**
 * Removes from a production node_modules what the gateway never loads on this platform, after `npm prune --omit=dev`
 * (the image's build stage runs it; the image test proves the result still starts, embeds and classifies):
 *   - onnxruntime-node's native libraries for other operating systems and CPU architectures (kept: this one);
 *   - onnxruntime-web: @huggingface/transformers' Node build bundles the web runtime it needs, nothing imports the package;
 *   - source maps;
 *   - hnswlib-node's compiler intermediates (the built addon stays).
 * Usage: node scripts/prune-image.mjs [node_modules folder, default ./node_modules]
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const modules = path.resolve(process.argv[2] ?? 'node_modules');
if (!existsSync(modules)) {
  process.stderr.write(`prune-image: ${modules} does not exist\n`);
  process.exit(1);
}

/** Bytes under a path. */
const sizeOf = (p) => {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  return st.isDirectory() ? readdirSync(p).reduce((n, e) => n + sizeOf(path.join(p, e)), 0) : st.size;
};

const removed = [];
const remove = (p, why) => {
  if (!existsSync(p)) return;
  removed.push({ p: path.relative(modules, p), why, bytes: sizeOf(p) });
  rmSync(p, { recursive: true, force: true });
};

const ortBin = path.join(modules, 'onnxruntime-node', 'bin', 'napi-v6');
if (existsSync(ortBin)) {
  for (const os of readdirSync(ortBin)) {
    for (const arch of readdirSync(path.join(ortBin, os))) {
      if (os !== process.platform || arch !== process.arch) remove(path.join(ortBin, os, arch), 'onnxruntime for another platform');
    }
  }
}
remove(path.join(modules, 'onnxruntime-web'), 'bundled into @huggingface/transformers');
for (const dir of ['obj.target', '.deps']) remove(path.join(modules, 'hnswlib-node', 'build', 'Release', dir), 'compiler intermediates');

const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.map')) remove(p, 'source map');
  }
};
walk(modules);

const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
const byWhy = new Map();
for (const r of removed) byWhy.set(r.why, (byWhy.get(r.why) ?? 0) + r.bytes);
for (const [why, bytes] of byWhy) process.stdout.write(`prune-image: removed ${mb(bytes)} (${why})\n`);
process.stdout.write(`prune-image: node_modules is now ${mb(sizeOf(modules))}\n`);
