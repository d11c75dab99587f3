/**
 * What a cache partition costs in memory. The partition is chosen by the caller (its model, system prompt and parameters),
 * so one caller can put every entry in a partition of its own: each must cost about what its entry is counted at, not the
 * fixed native cost of an HNSW index (about 2.6 MB each, hnswlib's 65,536 label locks). Indexes are built for partitions
 * large enough to pay for one, and their fixed cost is counted against the memory bound.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LocalIndex, type EntryMeta } from '../../src/cache/local-index.js';
import { FLAT_MAX, INDEX_AT, INDEX_BYTES, PartitionVectors } from '../../src/cache/partition-vectors.js';
import { VectorIndex } from '../../src/semantic/vector-index.js';

const DIM = 512;
const vector = (seed: number): Float32Array => Float32Array.from({ length: DIM }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) + 0.01 * ((seed * 31 + i) % 7));
const meta = (key: string, partition: string, tenant = 'vk:a'): EntryMeta =>
  ({ key, partition, tenant, model: 'm', intent: '', text: key, createdAt: 0, expiresAt: Infinity, latencyMs: 1, hits: 0 });
const graph = { dim: DIM, M: 16, efConstruction: 100, efSearch: 64 };

test('an entry in a partition of its own costs about what it is counted at, not a native index', () => {
  const index = new LocalIndex(graph, { maxEntries: 100_000, maxBytes: 512 * 1024 * 1024 }, () => 0, () => undefined);
  const n = 200;
  // Warm up whatever the first entry allocates once.
  index.add(meta('warm', 'p-warm'), vector(0), undefined);
  global.gc?.();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < n; i++) index.add(meta(`k${i}`, `p${i}`), vector(i + 1), undefined);
  const grown = process.memoryUsage().rss - before;
  assert.equal(index.partitionCount, n + 1);
  // Counted: about 3 kB an entry. An index per partition was 2.6 MB each (520 MB here).
  assert.ok(grown < 64 * 1024 * 1024, `RSS grew ${(grown / 1024 / 1024).toFixed(1)} MB for ${n} one-entry partitions`);
  assert.ok(index.memoryBytes < n * 10_000, `${index.memoryBytes} bytes counted`);
  // Each partition still finds its own entry.
  for (const i of [0, 57, n - 1]) {
    const [best] = index.search(`p${i}`, vector(i + 1), 4);
    assert.equal(best?.entry.meta.key, `k${i}`);
    assert.ok(Math.abs(best.score - 1) < 1e-5);
  }
});

test('a partition is indexed once it holds INDEX_AT vectors, its fixed cost counted in the bound, and flat again when it shrinks', () => {
  const maxBytes = 64 * 1024 * 1024;
  const index = new LocalIndex(graph, { maxEntries: 100_000, maxBytes }, () => 0, () => undefined);
  const flatBest: string[] = [];
  for (let i = 0; i < INDEX_AT - 1; i++) index.add(meta(`k${i}`, 'p'), vector(i), undefined);
  for (const i of [3, 100, 200]) flatBest.push(index.search('p', vector(i), 4)[0].entry.meta.key);
  assert.equal(index.indexCount, 0);
  const counted = index.memoryBytes;
  index.add(meta(`k${INDEX_AT - 1}`, 'p'), vector(INDEX_AT - 1), undefined);
  assert.equal(index.indexCount, 1);
  assert.ok(index.memoryBytes >= counted + INDEX_BYTES, 'the index counts');
  // The same answers while the new index is filled a few vectors at a time (a search reads both), and once it is full.
  assert.deepEqual(flatBest, ['k3', 'k100', 'k200']);
  assert.deepEqual([3, 100, 200].map((i) => index.search('p', vector(i), 4)[0].entry.meta.key), flatBest);
  for (let i = INDEX_AT; i < INDEX_AT + 100; i++) {
    index.add(meta(`k${i}`, 'p'), vector(i), undefined);
    if (i % 10 === 0) assert.deepEqual([3, 100, 200, i].map((j) => index.search('p', vector(j), 4)[0].entry.meta.key), [...flatBest, `k${i}`]);
  }
  assert.deepEqual([3, 100, 200].map((i) => index.search('p', vector(i), 4)[0].entry.meta.key), flatBest);
  for (let i = INDEX_AT; i < INDEX_AT + 100; i++) index.remove(`k${i}`, 'deleted');
  // Down to 63 entries: a flat list again, every vector still there.
  for (let i = 0; i < INDEX_AT - 63; i++) index.remove(`k${i}`, 'deleted');
  assert.equal(index.indexCount, 0);
  const kept = index.search('p', vector(INDEX_AT - 1), 4);
  assert.equal(kept[0].entry.meta.key, `k${INDEX_AT - 1}`);
  assert.ok(Math.abs(kept[0].score - 1) < 1e-5);
  assert.equal(kept.length, 4);
  assert.ok(kept.every((c, i) => i === 0 || c.score <= kept[i - 1].score), 'best first');
});

test('indexes take at most half the memory bound; the entries have the rest', () => {
  // Room for one index (2.7 MB) in half of 6 MB, not two.
  const maxBytes = 6_000_000;
  const index = new LocalIndex(graph, { maxEntries: 100_000, maxBytes }, () => 0, () => undefined);
  for (const p of ['a', 'b']) for (let i = 0; i < INDEX_AT; i++) index.add(meta(`${p}${i}`, p, `vk:${p}`), vector(i), undefined);
  assert.equal(index.indexCount, 1);
  assert.ok(index.memoryBytes <= maxBytes, `${index.memoryBytes}`);
  // A lower bound that holds no index flattens it.
  index.setLimits({ maxEntries: 100_000, maxBytes: 4_000_000 });
  assert.equal(index.indexCount, 0);
  assert.ok(index.memoryBytes <= 4_000_000);
  assert.equal(index.search('b', vector(5), 1)[0]?.entry.meta.key ?? 'evicted', index.get('b5', false) ? 'b5' : 'evicted');
});

test('a partition being moved into its index finds what a scan finds, and flattening midway keeps every vector', () => {
  const dim = 16;
  const vec = (s: number) => Float32Array.from({ length: dim }, (_, i) => Math.sin(s * 3.1 + i * 0.7));
  const cos = (a: Float32Array, b: Float32Array) => {
    let d = 0, na = 0, nb = 0;
    for (let i = 0; i < dim; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
    return d / Math.sqrt(na * nb);
  };
  const pv = new PartitionVectors(dim);
  for (let i = 0; i < 40; i++) pv.add(i, vec(i));
  pv.build(new VectorIndex({ dim, M: 8, efConstruction: 64, efSearch: 64, initialCapacity: 64 }));
  pv.add(40, vec(40)); // moves a few more; most are still flat
  pv.remove(7);
  assert.equal(pv.size, 40);
  assert.equal(pv.vectorOf(7), undefined);
  for (const q of [0.5, 13.2, 39.9]) {
    const want = Array.from({ length: 41 }, (_, i) => i).filter((i) => i !== 7).sort((a, b) => cos(vec(q), vec(b)) - cos(vec(q), vec(a))).slice(0, 4);
    assert.deepEqual(pv.search(vec(q), 4).map((n) => n.label), want, `query ${q}`);
  }
  pv.flatten(Array.from({ length: 41 }, (_, i) => i).filter((i) => i !== 7));
  assert.equal(pv.indexed, false);
  assert.equal(pv.size, 40);
  for (const i of [0, 20, 40]) assert.ok(Math.abs(cos(pv.vectorOf(i)!, vec(i)) - 1) < 1e-6);
});

test('a partition no index fits for keeps its newest FLAT_MAX entries, so its scan stays short', () => {
  const evicted: string[] = [];
  // Half of 5 MB holds no index.
  const index = new LocalIndex(graph, { maxEntries: 100_000, maxBytes: 5_000_000 }, () => 0, (m) => evicted.push(m.key));
  for (let i = 0; i < FLAT_MAX + 50; i++) index.add(meta(`k${i}`, 'p'), vector(i), undefined);
  assert.equal(index.indexCount, 0);
  assert.equal(index.size, FLAT_MAX);
  assert.deepEqual(evicted, Array.from({ length: 50 }, (_, i) => `k${i}`));
  assert.equal(index.search('p', vector(FLAT_MAX + 49), 1)[0].entry.meta.key, `k${FLAT_MAX + 49}`);
});

test('a partition flattened because a lower bound holds fewer indexes keeps its newest FLAT_MAX entries at once', () => {
  const dim = 16;
  const small = { dim, M: 8, efConstruction: 32, efSearch: 32 };
  const vec = (s: number) => Float32Array.from({ length: dim }, (_, i) => Math.sin(s * 3.1 + i * 0.7) + 0.01 * ((s + i) % 5));
  const evicted: string[] = [];
  const index = new LocalIndex(small, { maxEntries: 100_000, maxBytes: 64_000_000 }, () => 0, (m) => evicted.push(m.key));
  const n = FLAT_MAX + 500;
  for (const p of ['a', 'b']) for (let i = 0; i < n; i++) index.add(meta(`${p}${i}`, p, `vk:${p}`), vec(i), undefined);
  assert.equal(index.indexCount, 2);
  assert.equal(index.size, 2 * n);
  // Half of 10 MB holds one index (2.7 MB), not two: one partition goes back to a flat list, which is scanned whole.
  index.setLimits({ maxEntries: 100_000, maxBytes: 10_000_000 });
  assert.equal(index.indexCount, 1);
  assert.equal(index.size, n + FLAT_MAX, 'the flat partition holds FLAT_MAX entries, not all it had');
  assert.equal(evicted.length, n - FLAT_MAX);
  const flat = evicted[0]!.slice(0, 1);
  assert.deepEqual(evicted, Array.from({ length: n - FLAT_MAX }, (_, i) => `${flat}${i}`), 'its oldest left');
  assert.equal(index.search(flat, vec(n - 1), 1)[0]?.entry.meta.key, `${flat}${n - 1}`);
});
