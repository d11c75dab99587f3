/**
 * The reference-prompt folder watcher keeps watching the path it was given when the folder there is replaced (moved away
 * and a new one moved in): later edits in the new folder still reload.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { watchFolder } from '../../src/semantic/catalog/watch.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** Resolves true once `count()` passes `from`, false after `ms` (a generous bound: a change is seen within milliseconds). */
async function changedSince(count: () => number, from: number, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (count() > from) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

test('a folder swapped in under the same path is watched from then on', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'refs-watch-'));
  dirs.push(root);
  const refs = path.join(root, 'refs');
  await mkdir(refs);
  await mkdir(path.join(root, 'refs.new'));
  await writeFile(path.join(root, 'refs.new', 'code.txt'), 'write a function\n');
  let changes = 0;
  const errors: Error[] = [];
  const w = watchFolder(refs, 20, () => changes++, (e) => errors.push(e));
  try {
    await rename(refs, path.join(root, 'refs.old'));
    await rename(path.join(root, 'refs.new'), refs);
    assert.ok(await changedSince(() => changes, 0), 'the swap is seen');
    const seen = changes;
    await writeFile(path.join(refs, 'math.txt'), 'solve for x\n');
    assert.ok(await changedSince(() => changes, seen), 'an edit in the folder swapped in is seen');
    assert.deepEqual(errors, []);
  } finally {
    w.close();
  }
});
