import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RedisClientType } from 'redis';
import { newId, startResponse } from '../../src/edges/openai-responses/build-response.js';
import { MemoryResponseStore, RedisResponseStore, type StoredResponse } from '../../src/edges/openai-responses/response-store.js';
import { RedisGuard } from '../../src/store/redis-guard.js';
import { redisSkip, suite, testRedisClient } from '../helpers/requires.js';

const settings = { ttl_s: 60, max_entries: 3, max_bytes: 1_000_000, max_record_bytes: 10_000 };

function record(text = 'hi'): StoredResponse {
  const response = startResponse({ model: 'm', input: [], tools: [], stream: false, store: true }, newId('resp'), 0);
  return { response, conversation: [{ type: 'message', role: 'user', content: text }] };
}

describe('memory response store', () => {
  it('reads a record back for its tenant only', async () => {
    const store = new MemoryResponseStore(() => settings);
    const r = record();
    assert.equal(await store.put('ka', r), true);
    assert.deepEqual(await store.get('ka', r.response.id), r);
    assert.equal(await store.get('kb', r.response.id), undefined);
    assert.equal(await store.delete('kb', r.response.id), false);
    assert.equal(await store.delete('ka', r.response.id), true);
    assert.equal(await store.get('ka', r.response.id), undefined);
  });

  it('expires records after ttl_s', async () => {
    let now = 1_000;
    const store = new MemoryResponseStore(() => settings, () => now);
    const r = record();
    await store.put('ka', r);
    now += 59_999;
    assert.ok(await store.get('ka', r.response.id));
    now += 1;
    assert.equal(await store.get('ka', r.response.id), undefined);
    assert.equal(store.size, 0);
  });

  it('stays within max_entries and max_bytes, dropping the oldest', async () => {
    const limits = { ...settings };
    const store = new MemoryResponseStore(() => limits);
    const rs = [record('a'), record('b'), record('c'), record('d')];
    for (const r of rs) await store.put('ka', r);
    assert.equal(store.size, 3);
    assert.equal(await store.get('ka', rs[0]!.response.id), undefined);
    assert.ok(await store.get('ka', rs[3]!.response.id));
    limits.max_bytes = JSON.stringify(rs[3]).length * 2;
    await store.put('ka', record('e'));
    assert.equal(store.size, 2);
  });

  it('refuses a record larger than max_record_bytes', async () => {
    const store = new MemoryResponseStore(() => ({ ...settings, max_record_bytes: 100 }));
    assert.equal(await store.put('ka', record('x'.repeat(200))), false);
    assert.equal(store.size, 0);
  });

  it('refuses a record larger than max_bytes, keeping every stored one, rather than storing it only to evict it', async () => {
    const store = new MemoryResponseStore(() => ({ ...settings, max_entries: 10, max_bytes: 2_000 }));
    const [a, b] = [record('a'), record('b')];
    await store.put('ka', a);
    await store.put('kb', b);
    const big = record('x'.repeat(3_000));
    assert.equal(await store.put('ka', big), false);
    assert.equal(await store.get('ka', big.response.id), undefined);
    assert.deepEqual(await store.get('ka', a.response.id), a);
    assert.deepEqual(await store.get('kb', b.response.id), b);
  });
});

suite('redis response store', redisSkip, () => {
  let raw: Awaited<ReturnType<typeof testRedisClient>>;
  let store: RedisResponseStore;
  const prefix = `test:${randomUUID()}:`;

  before(async () => {
    raw = await testRedisClient();
    const guard = new RedisGuard(raw as unknown as RedisClientType, { commandTimeoutMs: 1000, failures: 3, cooldownMs: 1000 });
    store = new RedisResponseStore(guard.client, prefix, () => settings);
  });
  after(async () => {
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(keys);
    raw.destroy();
  });

  it('stores with a TTL, per tenant', async () => {
    const r = record();
    assert.equal(await store.put('ka', r), true);
    assert.deepEqual(await store.get('ka', r.response.id), r);
    assert.equal(await store.get('kb', r.response.id), undefined);
    const [key] = await raw.keys(`${prefix}resp:*`);
    const ttl = await raw.pTTL(key!);
    assert.ok(ttl > 55_000 && ttl <= 60_000, String(ttl));
    assert.equal(await store.delete('ka', r.response.id), true);
    assert.equal(await store.get('ka', r.response.id), undefined);
  });

  it('keeps tenants apart whatever their ids hold', async () => {
    const r = record();
    await store.put('a:b', r);
    assert.equal(await store.get('a', r.response.id), undefined);
    assert.ok(await store.get('a:b', r.response.id));
  });
});
