import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCounterStore, type CounterStore } from '../../src/store/counters.js';
import { RedisCounterStore } from '../../src/store/redis-counters.js';
import { RedisDocumentStore } from '../../src/store/redis-documents.js';
import type { Redis } from '../../src/store/redis-script.js';
import { cleanup, redisClient, uniquePrefix } from './helpers.js';
import { redisSkip, suite } from '../helpers/requires.js';

let client: Redis;
const prefix = uniquePrefix();

before(async () => { if (!redisSkip) client = await redisClient(); });
after(async () => { if (client) { await cleanup(client, prefix); client.destroy(); } });

function counterSuite(name: string, make: () => CounterStore, skip: string | false = false): void {
  suite(`${name} counters`, skip, () => {
    test('reserve adds only when every check passes', async () => {
      const s = make();
      const a = `${prefix}${name}:a`;
      const b = `${prefix}${name}:b`;
      assert.deepEqual(await s.reserve([{ keys: [a], weights: [1], limit: 10, amount: 6, ttlMs: 60_000 }, { keys: [b], weights: [1], limit: 3, amount: 2, ttlMs: 0 }]), { ok: true });
      assert.deepEqual(await s.read([a, b]), [6, 2]);
      const refused = await s.reserve([{ keys: [a], weights: [1], limit: 10, amount: 4, ttlMs: 60_000 }, { keys: [b], weights: [1], limit: 3, amount: 2, ttlMs: 0 }]);
      assert.equal(refused.ok, false);
      if (!refused.ok) {
        assert.equal(refused.index, 1);
        assert.equal(refused.current, 2);
        assert.deepEqual(refused.values, [2]);
      }
      assert.deepEqual(await s.read([a, b]), [6, 2], 'nothing was added by the refused reserve');
      // Exactly at the limit passes; reaching it refuses the next one, even with a zero amount.
      assert.deepEqual(await s.reserve([{ keys: [a], weights: [1], limit: 10, amount: 4, ttlMs: 60_000 }]), { ok: true });
      assert.equal((await s.reserve([{ keys: [a], weights: [1], limit: 10, amount: 0, ttlMs: 60_000 }])).ok, false);
    });

    test('weighted keys and adjustments', async () => {
      const s = make();
      const cur = `${prefix}${name}:cur`;
      const prev = `${prefix}${name}:prev`;
      await s.adjust([{ key: prev, amount: 8, ttlMs: 60_000 }]);
      // 8 * 0.5 + 0 + 6 = 10 <= 10 passes; then 4 + 6 + 1 > 10 refuses.
      assert.equal((await s.reserve([{ keys: [cur, prev], weights: [1, 0.5], limit: 10, amount: 6, ttlMs: 60_000 }])).ok, true);
      const r = await s.reserve([{ keys: [cur, prev], weights: [1, 0.5], limit: 10, amount: 1, ttlMs: 60_000 }]);
      assert.equal(r.ok, false);
      if (!r.ok) { assert.equal(r.current, 10); assert.deepEqual(r.values, [6, 8]); }
      await s.adjust([{ key: cur, amount: -5, ttlMs: 60_000 }]);
      assert.deepEqual(await s.read([cur, prev]), [1, 8]);
    });
  });
}

counterSuite('memory', () => new MemoryCounterStore());
counterSuite('redis', () => new RedisCounterStore(client), redisSkip);

test('memory counters expire', async () => {
  let now = 1_000;
  const s = new MemoryCounterStore(() => now);
  await s.adjust([{ key: 'k', amount: 5, ttlMs: 100 }]);
  assert.deepEqual(await s.read(['k']), [5]);
  now += 100;
  assert.deepEqual(await s.read(['k']), [0]);
});

test('redis counters set an expiry once', { skip: redisSkip }, async () => {
  const s = new RedisCounterStore(client);
  const k = `${prefix}ttl`;
  await s.reserve([{ keys: [k], weights: [1], limit: 100, amount: 1, ttlMs: 50_000 }]);
  const ttl = await client.pTTL(k);
  assert.ok(ttl > 0 && ttl <= 50_000);
  const forever = `${prefix}forever`;
  await s.reserve([{ keys: [forever], weights: [1], limit: 100, amount: 1, ttlMs: 0 }]);
  assert.equal(await client.pTTL(forever), -1);
});

test('redis document store notifies other instances', { skip: redisSkip }, async () => {
  const p = `${prefix}docs:`;
  const a = await RedisDocumentStore.open(client, p);
  const b = await RedisDocumentStore.open(client, p);
  try {
    const seen = new Promise<string>((resolve) => b.onChange((c, id) => resolve(`${c}/${id}`)));
    assert.equal(await a.create('teams', 't1', { id: 't1', name: 'one' }), true);
    assert.equal(await a.create('teams', 't1', { id: 't1', name: 'dup' }), false);
    assert.equal(await seen, 'teams/t1');
    assert.deepEqual(await b.get('teams', 't1'), { id: 't1', name: 'one' });
    await b.put('teams', 't1', { id: 't1', name: 'renamed' });
    assert.deepEqual([...(await a.list('teams')).entries()], [['t1', { id: 't1', name: 'renamed' }]]);
    assert.equal(await a.delete('teams', 't1'), true);
    assert.equal(await a.get('teams', 't1'), undefined);
  } finally {
    await a.close();
    await b.close();
  }
});
