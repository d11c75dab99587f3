import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, it } from 'node:test';
import { createClient, type RedisClientType } from 'redis';
import { cacheConfigSchema } from '../../src/cache/config.js';
import { SemanticCache } from '../../src/cache/semantic-cache.js';
import { requestKey, type RequestKey } from '../../src/cache/request-key.js';
import { fromJsonReply } from '../../src/cache/reply.js';
import { DIM, chatCtx, jsonReply, logger, standInEmbed } from './helpers.js';
import { redisProxy } from '../helpers/redis-proxy.js';
import { redisSkip, suite, TEST_REDIS_URL } from '../helpers/requires.js';

const clients: RedisClientType[] = [];
/** A client on the test Redis, or on a proxy in front of it (`port`), that reconnects quickly after an outage. */
async function client(port?: number): Promise<RedisClientType> {
  const url = port === undefined ? TEST_REDIS_URL : `redis://127.0.0.1:${port}`;
  const c = createClient({ url, socket: { reconnectStrategy: () => 50 }, disableOfflineQueue: true }) as RedisClientType;
  c.on('error', () => undefined);
  await c.connect();
  clients.push(c);
  return c;
}

const prefix = `test:cache:${randomUUID()}:`;
after(async () => {
  if (redisSkip) return;
  const c = await client();
  for await (const keys of c.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await c.del(keys);
  for (const x of clients) if (x.isOpen) await x.close().catch(() => undefined);
});

const until = async (cond: () => boolean | Promise<boolean>, what: string): Promise<void> => {
  for (let i = 0; i < 200; i++) { if (await cond()) return; await new Promise((r) => setTimeout(r, 10)); }
  assert.fail(`timed out waiting for ${what}`);
};

function keyOf(text: string, p: string): { key: RequestKey; vector: Float32Array } {
  const k = requestKey(chatCtx({ text }), cacheConfigSchema.parse({ enabled: true, store: 'redis', redis_prefix: p })) as RequestKey;
  return { key: k, vector: standInEmbed(text) };
}

const proxy = redisProxy;

suite('cache on Redis', redisSkip, () => {
  it('two instances share entries, deletions and clears', async () => {
    const p = `${prefix}share:`;
    const cfg = { enabled: true, store: 'redis' as const, redis_prefix: p, threshold: 0.8 };
    const a = await SemanticCache.create({ dim: DIM, logger, config: cfg, redis: await client() });
    const b = await SemanticCache.create({ dim: DIM, logger, config: cfg, redis: await client() });
    const { key, vector } = keyOf('what is the tallest mountain', p);
    const stored = fromJsonReply('chat', jsonReply('Everest — 8,849 m (珠穆朗玛峰)'))!;
    await a.store(key, vector, stored, { model: 'gpt-test', intent: 'none', ttlS: 60, latencyMs: 120 });
    await until(() => b.entries === 1, 'instance b to see the entry');
    const hit = await b.exact(key.exact);
    assert.equal((hit!.reply.body.choices as any)[0].message.content, 'Everest — 8,849 m (珠穆朗玛峰)');
    assert.deepEqual(hit!.reply.raw, stored.raw, 'the same bytes come back from Redis');
    assert.equal(hit!.reply.size, stored.raw.length);
    assert.deepEqual(hit!.reply.usage, stored.usage);
    const sem = await b.semantic('what is the tallest mountain on earth', key.partition, standInEmbed('what is the tallest mountain on earth'), 0.5);
    assert.ok(sem.hit, 'semantic hit through the mirror');
    const info = await b.inspect(key.exact);
    assert.equal(info?.partition, key.partition);
    assert.equal(info?.latency_ms, 120);
    // A third instance started later rebuilds its mirror from Redis.
    const c = await SemanticCache.create({ dim: DIM, logger, config: cfg, redis: await client() });
    assert.equal(c.entries, 1);
    await b.clearPartition(key.partition);
    await until(() => a.entries === 0 && c.entries === 0, 'partition clear to reach every instance');
    await a.close(); await b.close(); await c.close();
  });

  it('the index of live entries expires with its latest entry: nothing is left behind once every instance is gone', async (t) => {
    const p = `${prefix}idx-ttl:`;
    const a = await SemanticCache.create({ dim: DIM, logger, config: { enabled: true, store: 'redis' as const, redis_prefix: p }, redis: await client() });
    t.after(() => a.close());
    const r = await client();
    const stored = fromJsonReply('chat', jsonReply('an answer'))!;
    const put = (text: string, ttlS: number) => a.store(keyOf(text, p).key, standInEmbed(text), stored, { model: 'gpt-test', intent: 'none', ttlS, latencyMs: 1 });
    await put('an answer kept a minute', 60);
    const first = await r.pTTL(`${p}idx`);
    assert.ok(first > 55_000 && first <= 60_000, `index TTL ${first} ms`);
    await put('an answer kept ten minutes', 600);
    await put('an answer kept five seconds', 5);
    const raised = await r.pTTL(`${p}idx`);
    assert.ok(raised > 595_000 && raised <= 600_000, `index TTL after a longer entry, then a shorter one: ${raised} ms`);
  });

  it('the bounds are kept fairly between tenants: one tenant\'s flood evicts its own entries, from every instance', async (t) => {
    const p = `${prefix}fair:`;
    const cfg = { enabled: true, store: 'redis' as const, redis_prefix: p, threshold: 0.8, max_entries: 4 };
    const a = await SemanticCache.create({ dim: DIM, logger, config: cfg, redis: await client() });
    const b = await SemanticCache.create({ dim: DIM, logger, config: cfg, redis: await client() });
    t.after(async () => { await a.close(); await b.close(); });
    const of = (text: string, vk: string): RequestKey =>
      requestKey(chatCtx({ text, caller: { virtualKeyId: vk } }), cacheConfigSchema.parse(cfg)) as RequestKey;
    const reply = fromJsonReply('chat', jsonReply('answer'))!;
    const info = { model: 'gpt-test', intent: 'none', ttlS: 60, latencyMs: 1 };
    const kept = of('what is the capital of France', 'vk-b');
    await b.store(kept, standInEmbed('what is the capital of France'), reply, info);
    const flood = Array.from({ length: 10 }, (_, i) => of(`flood question number ${i}`, 'vk-a'));
    for (const k of flood) await a.store(k, standInEmbed(k.text!), reply, info);
    await until(() => b.entries === 4, 'instance b to mirror the bound');
    assert.ok(await a.exact(kept.exact), 'B\'s entry survived A\'s flood on the flooding instance');
    assert.ok(await b.exact(kept.exact), 'and on the other');
    assert.ok(await b.exact(flood[9]!.exact), 'A keeps its newest');
    await until(async () => (await b.exact(flood[0]!.exact)) === undefined, 'A\'s oldest to leave every instance');
    // The flooding instance evicted for its bound (how many of A's entries it dropped itself, rather than on hearing that
    // the other instance had, depends on when the other instance's deletions arrive).
    await until(() => a.entries === 4, 'instance a to keep its bound');
    assert.ok((a.snapshot().totals.evictions['lru'] ?? 0) >= 1, 'evictions for the bound are counted');
  });

  it('keeps serving while Redis is away and resynchronises when it returns', async () => {
    const p = `${prefix}outage:`;
    const cfg = { enabled: true, store: 'redis' as const, redis_prefix: p, threshold: 0.8, redis_timeout_ms: 200 };
    const px = await proxy();
    const flaky = await client(px.port);
    const cache = await SemanticCache.create({ dim: DIM, logger, config: cfg, redis: flaky });
    const other = await SemanticCache.create({ dim: DIM, logger, config: cfg, redis: await client() });
    const first = keyOf('first question here', p);
    await cache.store(first.key, first.vector, fromJsonReply('chat', jsonReply('one'))!, { model: 'gpt-test', intent: 'none', ttlS: 60, latencyMs: 1 });
    assert.ok(await cache.exact(first.key.exact));

    await px.cut();
    await until(() => !flaky.isReady, 'client to notice the outage');
    assert.equal(await cache.exact(first.key.exact), undefined, 'lookups miss while Redis is away');
    const lost = keyOf('stored while down', p);
    await cache.store(lost.key, lost.vector, fromJsonReply('chat', jsonReply('x'))!, { model: 'gpt-test', intent: 'none', ttlS: 60, latencyMs: 1 });
    assert.ok(cache.snapshot().totals.store_errors >= 2);
    // Meanwhile another instance writes an entry this one cannot hear about.
    const second = keyOf('second question here', p);
    await other.store(second.key, second.vector, fromJsonReply('chat', jsonReply('two'))!, { model: 'gpt-test', intent: 'none', ttlS: 60, latencyMs: 1 });

    await px.restore();
    await until(() => cache.entries === 2, 'resync after reconnect');
    assert.equal((((await cache.exact(second.key.exact))!.reply.body.choices) as any)[0].message.content, 'two');
    await cache.close(); await other.close();
    await px.cut();
  });
});
