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

test('the bounds are kept fairly between tenants: a flood of large answers evicts its own tenant\'s, by bytes and by count', () => {
  let now = 0;
  const evicted: Array<[string, string]> = [];
  const index = new LocalIndex({ dim: DIM, M: 8, efConstruction: 32, efSearch: 16 }, { maxEntries: 100, maxBytes: 20_000 }, () => now,
    (m, reason) => evicted.push([m.key, reason]));
  const at = (key: string, tenant: string, expiresAt = Infinity): EntryMeta => ({ ...meta(key), tenant, partition: tenant, expiresAt });
  index.add(at('b1', 'vk:b'), unit(1), undefined);
  index.add(at('b2', 'vk:b'), unit(2), undefined);
  // Each of A's entries carries a 4 kB text: five of them fill the memory bound alone.
  for (let i = 0; i < 20; i++) index.add({ ...at(`a${i}`, 'vk:a'), text: 'x'.repeat(4000) }, unit(10 + i), undefined);
  assert.ok(index.memoryBytes <= 20_000);
  assert.ok(index.get('b1') && index.get('b2'), 'B keeps both answers');
  assert.ok(evicted.every(([k, r]) => k.startsWith('a') && r === 'lru'), JSON.stringify(evicted));
  assert.ok(index.get('a19'), 'A keeps its newest');
  // Lower count bound: the tenant with more entries gives up first; B within its share keeps both.
  index.setLimits({ maxEntries: 4, maxBytes: 20_000 });
  assert.equal(index.size, 4);
  assert.ok(index.get('b1', false) && index.get('b2', false) && index.get('a19', false));
  // B's third answer makes B the larger holder (3 of the 5 entries against A's 2): B gives up its least recently used.
  index.add(at('b3', 'vk:b', 10), unit(3), undefined);
  assert.deepEqual(evicted.at(-1), ['b1', 'lru']);
  // An expired entry goes before any live one, and is counted as expired.
  now = 10;
  index.add(at('a-new', 'vk:a'), unit(4), undefined);
  assert.deepEqual(evicted.at(-1), ['b3', 'expired']);
  assert.equal(index.size, 4);
  // The sweep drops every expired entry.
  index.add(at('c1', 'vk:c', 20), unit(5), undefined);
  now = 20;
  assert.equal(index.sweep(), 1);
  assert.equal(index.get('c1'), undefined);
});
