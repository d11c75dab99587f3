/**
 * The local cache index's stored-vector read-back (what the guard's pair scorer compares a query with): the vector an entry
 * was stored with, the same when read again from the recently-read set, and never a removed or replaced entry's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LocalIndex, type EntryMeta } from '../../src/cache/local-index.js';

const DIM = 8;
const unit = (seed: number): Float32Array => {
  const v = Float32Array.from({ length: DIM }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const meta = (key: string): EntryMeta => ({ key, partition: 'p', tenant: 't', model: 'm', intent: '', text: key, createdAt: 0, expiresAt: Infinity, latencyMs: 1, hits: 0 });
const close = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => Array.from(a).every((x, i) => Math.abs(x - b[i]) < 1e-6);

test('vectorOf returns the stored vector, again from the recent set, and nothing for a removed or replaced entry', () => {
  const index = new LocalIndex({ dim: DIM, M: 8, efConstruction: 32, efSearch: 16 }, { maxEntries: 5000, maxBytes: 1e9 }, () => 0, () => undefined);
  const a = index.add(meta('a'), unit(1), undefined);
  const b = index.add(meta('b'), unit(2), undefined);
  assert.ok(close(index.vectorOf(a)!, unit(1)));
  const again = index.vectorOf(a)!;
  assert.equal(index.vectorOf(a), again, 'read again from the recent set');
  assert.ok(close(index.vectorOf(b)!, unit(2)));
  index.remove('a', 'deleted');
  assert.equal(index.vectorOf(a), undefined, 'a removed entry has no vector');
  const b2 = index.add(meta('b'), unit(3), undefined);
  assert.equal(index.vectorOf(b), undefined, 'the replaced entry has none');
  assert.ok(close(index.vectorOf(b2)!, unit(3)), 'its replacement has its own');
  // More entries read than the recent set holds: every one still reads back right.
  const many = Array.from({ length: 1100 }, (_, i) => index.add(meta(`k${i}`), unit(10 + i), undefined));
  for (const [i, e] of many.entries()) assert.ok(close(index.vectorOf(e)!, unit(10 + i)), `k${i}`);
  assert.ok(close(index.vectorOf(many[0])!, unit(10)));
});
