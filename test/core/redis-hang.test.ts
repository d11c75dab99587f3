/**
 * Redis hung (connections open, nothing answered — as under SIGSTOP): requests must not wait for it. Every Redis call is
 * bounded, a breaker opens after a few timeouts, each feature follows its policy (cache: miss; budgets and rate limits:
 * fail_open serves on local counters, fail_closed refuses with 503), and /ready says Redis is degraded.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { createClient } from 'redis';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { closeAll, gateway, post, provider, sims } from '../helpers/gateway.js';
import { redisProxy, type RedisProxy } from '../helpers/redis-proxy.js';
import { redisSkip, suite, TEST_REDIS_URL } from '../helpers/requires.js';

const KEY = 'sk-sy-redis-hang-key-000000001';

suite('a hung Redis', redisSkip, () => {
  let up: Simulator;
  let proxy: RedisProxy;
  let gw: Gateway | undefined;
  const prefix = `test:${randomUUID()}:`;

  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    proxy = await redisProxy();
  });
  after(async () => {
    proxy.resume();
    await closeAll(gw, [up]);
    await proxy.cut();
    const c = createClient({ url: TEST_REDIS_URL });
    await c.connect();
    const keys = await c.keys(`${prefix}*`);
    if (keys.length) await c.del(keys);
    await c.quit();
  });

  const start = async (policy: 'fail_open' | 'fail_closed') => {
    await gw?.close();
    proxy.resume();
    gw = await gateway({
      redis: { url: proxy.url, key_prefix: `${prefix}${policy}:`, command_timeout_ms: 200, breaker_failures: 2, breaker_cooldown_ms: 60_000 },
      cache: { enabled: true, semantic: false, store: 'redis' },
      providers: { up: provider(up, ['m']) },
      governance: { on_store_error: policy, keys: [{ id: 'app', name: 'app', key: KEY, rate_limits: { requests_per_minute: 1000 } }] },
    });
  };
  const ask = (i: number) => post(gw!, '/v1/chat/completions', { model: 'up/m', messages: [{ role: 'user', content: `question ${i}` }] }, { authorization: `Bearer ${KEY}` });

  it('fail_open: requests are served while Redis hangs, without waiting for it; /ready says degraded', async () => {
    await start('fail_open');
    assert.equal((await ask(0)).status, 200);
    proxy.pause();
    // All of these finish while Redis is still paused: nothing waits for it to come back.
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(i + 1)));
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
    const ready = (await (await fetch(`${gw!.url}/ready`)).json()) as any;
    assert.equal(ready.redis, 'degraded');
    assert.equal(ready.redis_breaker, 'open');
    assert.equal(ready.status, 'ready', 'fail_open keeps the gateway ready');
    // With the breaker open, calls fail at once: many more requests still go through.
    for (let i = 0; i < 10; i++) assert.equal((await ask(100 + i)).status, 200);
    proxy.resume();
  });

  it('fail_closed: requests are refused with 503 while Redis hangs, again without waiting for it', async () => {
    await start('fail_closed');
    assert.equal((await ask(0)).status, 200);
    proxy.pause();
    const replies = await Promise.all(Array.from({ length: 4 }, (_, i) => ask(i + 1)));
    for (const r of replies) {
      assert.equal(r.status, 503);
      assert.equal(r.json.error.code, 'governance_unavailable');
    }
    const ready = await fetch(`${gw!.url}/ready`);
    assert.equal(ready.status, 503);
    proxy.resume();
  });
});
