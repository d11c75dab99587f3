/**
 * Faults of the Redis behind budgets and rate limits: a counter whose value is not an integer, a reply that arrives after
 * its command timed out, an outage the gateway served through on local counters. None of them may hand a tenant a fresh
 * budget or take spend away from one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { GatewayError } from '../../src/errors.js';
import type { Governance } from '../../src/governance/governance.js';
import { createGovernanceStage } from '../../src/governance/stage.js';
import { RedisGuard } from '../../src/store/redis-guard.js';
import { RedisLedgerBook } from '../../src/ledger/redis-book.js';
import { AMOUNTS, DIMENSIONS } from '../../src/ledger/entry.js';
import { hourOf, rowId } from '../../src/ledger/book.js';
import type { Redis } from '../../src/store/redis-script.js';
import { cleanup, makeCtx, makeGov, redisClient, silent, uniquePrefix } from './helpers.js';
import { sharedBudgetConfig, sharedBudgetKey } from './fixtures/shared-budget.js';
import { redisProxy } from '../helpers/redis-proxy.js';
import { redisSkip } from '../helpers/requires.js';

const prefix = uniquePrefix();
let admin: Redis;
before(async () => { if (!redisSkip) admin = await redisClient(); });
after(async () => { if (admin) { await cleanup(admin, prefix); admin.destroy(); } });

/** One request through the stage: admitted (settled at its reservation) or the refusal. */
async function ask(gov: Governance, stage = createGovernanceStage({ governance: gov })): Promise<GatewayError | undefined> {
  const caller = await gov.authenticate(`Bearer ${sharedBudgetKey}`);
  const ctx = makeCtx(caller, { model: 'm', body: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 996 }, route: { chain: [{ provider: 'test', model: 'm' }], rule: 'r' } });
  try {
    await stage.before!(ctx);
  } catch (err) {
    return err as GatewayError;
  }
  const tokens = (ctx.facts.governance as { reserved_tokens: number }).reserved_tokens;
  ctx.usage = { prompt_tokens: 7, completion_tokens: tokens - 7, total_tokens: tokens };
  stage.after!(ctx, { kind: 'json', status: 200, body: {} });
  await gov.enforcement.drain();
  return undefined;
}

for (const corrupt of ['garbage', '12.5', 'nan', '']) {
  test(`a budget counter holding '${corrupt}' refuses instead of handing out a fresh budget`, { skip: redisSkip }, async () => {
    const p = `${prefix}corrupt-${corrupt.length}-${corrupt}:`;
    const gov = await makeGov(sharedBudgetConfig, { redis: admin, prefix: p });
    try {
      assert.equal(await ask(gov), undefined);
      const key = `${p}ctr:c:acme:usd:total:0`;
      assert.equal(await admin.get(key), '10030000');
      await admin.set(key, corrupt);
      for (let i = 0; i < 5; i++) {
        const refused = await ask(gov);
        assert.equal(refused?.code, 'budget_exceeded', `request ${i} after the corruption: ${refused?.message ?? 'admitted'}`);
      }
      assert.equal(gov.health().counters.state, 'healthy', 'a corrupt value is not a Redis outage');
      // The counter reads as spent: the usage report says so rather than NaN or 0.
      assert.equal((await gov.usage('customers', 'acme')).budget!.used_usd, 1);
    } finally {
      await gov.close();
    }
  });
}

test('a counter corrupted while a request runs: its settlement still reaches the other counters', { skip: redisSkip }, async () => {
  const p = `${prefix}corrupt-settle:`;
  const config = { ...sharedBudgetConfig, keys: [{ ...sharedBudgetConfig.keys[0], budget: { limit_usd: 2, period: 'total' } }] };
  const gov = await makeGov(config, { redis: admin, prefix: p });
  try {
    const stage = createGovernanceStage({ governance: gov });
    const caller = await gov.authenticate(`Bearer ${sharedBudgetKey}`);
    const ctx = makeCtx(caller, { model: 'm', body: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 996 }, route: { chain: [{ provider: 'test', model: 'm' }], rule: 'r' } });
    await stage.before!(ctx);
    await admin.set(`${p}ctr:k:k:usd:total:0`, 'oops');
    ctx.usage = { prompt_tokens: 7, completion_tokens: 0, total_tokens: 7 };
    stage.after!(ctx, { kind: 'json', status: 200, body: {} });
    await gov.enforcement.drain();
    assert.equal(await admin.get(`${p}ctr:c:acme:usd:total:0`), '70000', "the customer's budget settled at the real cost");
    const refused = await ask(gov, stage);
    assert.match(refused?.message ?? 'admitted', /Budget exceeded for virtual key 'shared'/);
  } finally {
    await gov.close();
  }
});

test('a corrupt rate-limit slice refuses', { skip: redisSkip }, async () => {
  const p = `${prefix}corrupt-rate:`;
  const config = { ...sharedBudgetConfig, keys: [{ ...sharedBudgetConfig.keys[0], rate_limits: { requests_per_minute: 100 } }] };
  const gov = await makeGov(config, { redis: admin, prefix: p });
  try {
    assert.equal(await ask(gov), undefined);
    const [slice] = await admin.keys(`${p}ctr:k:k:req:m:*`);
    await admin.set(slice, 'abc');
    const refused = await ask(gov);
    assert.equal(refused?.code, 'rate_limit_exceeded', refused?.message ?? 'admitted');
    assert.equal(gov.health().counters.state, 'healthy');
  } finally {
    await gov.close();
  }
});

/** A client on the proxy that fails fast while disconnected, as the gateway's own (src/services.ts). */
async function proxiedClient(url: string): Promise<ReturnType<typeof createClient>> {
  const client = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 50 } });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

const until = async (what: string, check: () => Promise<boolean> | boolean): Promise<void> => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting: ${what}`);
};

test('a reservation whose reply came too late is given back once it arrives', { skip: redisSkip }, async () => {
  const proxy = await redisProxy();
  const raw = await proxiedClient(proxy.url);
  const guard = new RedisGuard(raw as never, { commandTimeoutMs: 150, failures: 100, cooldownMs: 10 });
  const p = `${prefix}late:`;
  const gov = await makeGov({ ...sharedBudgetConfig, on_store_error: 'fail_closed' }, { redis: guard.client as unknown as Redis, prefix: p });
  const budget = `${p}ctr:c:acme:usd:total:0`;
  try {
    assert.equal(await ask(gov), undefined);
    assert.equal(await admin.get(budget), '10030000');
    proxy.holdReplies(); // Redis carries the reservation out; its reply is late
    const refused = await ask(gov);
    assert.equal(refused?.code, 'governance_unavailable');
    assert.equal(await admin.get(budget), '20060000', 'Redis made the reservation');
    proxy.releaseReplies();
    // The refused request's reservation is returned: only the first request stays spent.
    await until('the late reservation is returned', async () => (await admin.get(budget)) === '10030000');
    await gov.enforcement.drain();
    assert.equal(await admin.get(budget), '10030000');
  } finally {
    proxy.releaseReplies();
    await gov.close();
    raw.destroy();
    await proxy.cut();
  }
});

test('spend served on local counters during an outage reaches Redis when it is back', { skip: redisSkip }, async () => {
  const proxy = await redisProxy();
  const raw = await proxiedClient(proxy.url);
  const guard = new RedisGuard(raw as never, { commandTimeoutMs: 500, failures: 100, cooldownMs: 10 });
  const p = `${prefix}outage:`;
  const gov = await makeGov(sharedBudgetConfig, { redis: guard.client as unknown as Redis, prefix: p });
  const budget = `${p}ctr:c:acme:usd:total:0`;
  try {
    const stage = createGovernanceStage({ governance: gov });
    assert.equal(await ask(gov, stage), undefined);
    // A request reserved on Redis whose settlement comes while Redis is away.
    const caller = await gov.authenticate(`Bearer ${sharedBudgetKey}`);
    const inFlight = makeCtx(caller, { model: 'm', body: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 996 }, route: { chain: [{ provider: 'test', model: 'm' }], rule: 'r' } });
    await stage.before!(inFlight);
    await proxy.cut();
    for (let i = 0; i < 3; i++) assert.equal(await ask(gov, stage), undefined, 'served on local counters');
    assert.equal(gov.health().counters.state, 'degraded');
    inFlight.usage = { prompt_tokens: 7, completion_tokens: 0, total_tokens: 7 };
    stage.after!(inFlight, { kind: 'json', status: 200, body: {} });
    await gov.enforcement.drain();
    assert.equal(await admin.get(budget), '20060000', 'Redis saw only what came before the outage');
    await proxy.restore();
    await until('the client reconnects', () => raw.isReady);
    assert.equal(await ask(gov, stage), undefined);
    await gov.enforcement.drain();
    // 1 + 3 + 1 requests at $0.01003 each, and the in-flight one settled at $0.00007.
    await until('the outage spend reaches Redis', async () => (await admin.get(budget)) === String(5 * 10030000 + 70000));
    assert.equal(gov.health().counters.state, 'healthy');
  } finally {
    await gov.close();
    raw.destroy();
    await proxy.cut();
  }
});

test('a spend-ledger flush whose reply came too late is not counted twice', { skip: redisSkip }, async () => {
  const proxy = await redisProxy();
  const raw = await proxiedClient(proxy.url);
  const guard = new RedisGuard(raw as never, { commandTimeoutMs: 150, failures: 100, cooldownMs: 10 });
  const p = `${prefix}ledger-late:`;
  const at = Date.now();
  const book = new RedisLedgerBook(guard.client as unknown as Redis, { prefix: p, ttlHours: 1, maxRows: 100, logger: silent, now: () => at });
  const amounts = AMOUNTS.map((_, i) => (i === 0 ? 1 : 0));
  try {
    const dims = DIMENSIONS.map((d) => `${d}-x`);
    book.add(at, dims, amounts, rowId(dims));
    proxy.holdReplies();
    await book.flush(); // Redis adds the row; the reply is late
    proxy.releaseReplies();
    await new Promise((r) => setTimeout(r, 200));
    await book.flush();
    const rows = await book.read(hourOf(at), hourOf(at));
    assert.equal(rows.length, 1);
    assert.equal(rows[0].row.amounts[0], 1, 'the request is counted once');
    // A field written by something else is left out of the totals rather than turning them into NaN.
    await admin.hSet(`${p}ledger:${hourOf(at)}`, `1:${rowId(dims)}`, 'junk');
    const [again] = await book.read(hourOf(at), hourOf(at));
    assert.deepEqual(again.row.amounts.slice(0, 2), [1, 0]);
  } finally {
    proxy.releaseReplies();
    raw.destroy();
    await proxy.cut();
  }
});
