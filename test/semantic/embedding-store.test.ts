/**
 * The on-disk embedding cache is only a cache: a torn record left by a crash does not spoil what is appended after it, and
 * a cache that cannot be read or written never fails a load.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { embedAll, EmbeddingStore } from '../../src/semantic/catalog/embedding-store.js';
import type { Embedder } from '../../src/semantic/embedder/types.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const DIM = 4;
/** Counts the texts it is asked to embed; each vector is derived from the text's length. */
function countingEmbedder(): Embedder & { calls: string[] } {
  const calls: string[] = [];
  return {
    id: 'fake', dim: DIM, calls,
    embed: (texts) => {
      calls.push(...texts);
      return Promise.resolve(texts.map((t) => Float32Array.from({ length: DIM }, (_, i) => (t.length + i) / 100)));
    },
    close: () => Promise.resolve(),
  };
}

test('after a torn last record, later appends stay readable', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'emb-'));
  dirs.push(dir);
  const store = new EmbeddingStore(dir, 'fake', DIM);
  const e = countingEmbedder();
  await embedAll(e, ['alpha'], store);
  await appendFile(store.file, Buffer.alloc(7)); // a crash mid-append
  await embedAll(e, ['alpha', 'beta'], store);
  const again = countingEmbedder();
  const res = await embedAll(again, ['alpha', 'beta'], store);
  assert.deepEqual(again.calls, [], 'both come from the disk cache');
  assert.equal(res.cached, 2);
  assert.equal((await stat(store.file)).size % (20 + DIM * 4), 0);
});

test('a cache that cannot be read or written is reported and every text is embedded', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'emb-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'a-file'), 'x');
  const errors: string[] = [];
  const store = new EmbeddingStore(path.join(dir, 'a-file', 'cache'), 'fake', DIM, (msg) => errors.push(msg));
  const e = countingEmbedder();
  const res = await embedAll(e, ['alpha', 'beta'], store);
  assert.equal(res.vectors.length, 2);
  assert.deepEqual(e.calls, ['alpha', 'beta']);
  assert.equal(errors.length, 2, errors.join('\n'));
  assert.match(errors[0]!, /cannot read the embedding cache/);
  assert.match(errors[1]!, /cannot write the embedding cache/);
});
