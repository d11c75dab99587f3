import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, post, provider, sims } from '../helpers/gateway.js';
import { keyRouter, type KeyRouter } from '../helpers/key-router.js';

const ask = (ai: OpenAI, model = 'primary/m') =>
  ai.chat.completions.create({ model, messages: [{ role: 'user', content: 'ping' }] });

describe('retries and fallbacks: zero client-visible failures', () => {
  let primary: Simulator;
  let backup: Simulator;
  let gw: Gateway;
  let ai: OpenAI;
  before(async () => {
    [primary, backup] = await sims({ protocol: 'openai', name: 'primary' }, { protocol: 'openai', name: 'backup' });
    gw = await gateway({
      providers: {
        primary: provider(primary, ['m'], [{ id: 'k1' }], { timeout_ms: 400 }),
        backup: provider(backup, ['m']),
      },
      routing: { fallbacks: { 'primary/m': ['backup/m'] } },
      circuit: { consecutive_failures: 100 },
    });
    ai = client(gw);
  });
  afterEach(() => { primary.reset(); backup.reset(); });
  after(() => closeAll(gw, [primary, backup]));

  for (const [name, fault] of [
    ['500', { status: 500 }],
    ['503', { status: 503 }],
    ['429 with retry-after', { status: 429, headers: { 'retry-after': '0' } }],
    ['timeout', { hang: true }],
    ['connection reset', { reset: true }],
  ] as const) {
    it(`${name} on the primary → answer from the fallback`, async () => {
      primary.inject(fault);
      const { data, response } = await ask(ai).withResponse();
      assert.match(data.choices[0].message.content ?? '', /^\[backup\]/);
      assert.equal(response.headers.get('x-switchyard-provider'), 'backup');
      assert.equal(response.headers.get('x-switchyard-attempts'), '2');
      assert.equal(primary.requestCount(), 1);
    });
  }

  it('a stream that fails before its first byte falls back', async () => {
    primary.inject({ status: 502 });
    const stream = await ai.chat.completions.create({ model: 'primary/m', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    assert.match(text, /^\[backup\]/);
  });

  it('a stream cut after the first byte ends in an error event, never [DONE]', async () => {
    primary.inject({ cutAfterChunks: 2 });
    const raw = await post(gw, '/v1/chat/completions', { model: 'primary/m', stream: true, messages: [{ role: 'user', content: 'tell me a long story' }] });
    assert.equal(raw.status, 200);
    assert.doesNotMatch(raw.text, /\[DONE\]/);
    assert.match(raw.text, /data: \{"error":/);
    assert.equal(backup.requestCount(), 0, 'no fallback once bytes reached the client');

    primary.inject({ cutAfterChunks: 2 });
    const stream = await ai.chat.completions.create({ model: 'primary/m', stream: true, messages: [{ role: 'user', content: 'again please' }] });
    await assert.rejects(async () => { for await (const _ of stream) { /* drain */ } });
  });

  it('a non-retryable 400 is returned as is, without fallback', async () => {
    primary.inject({ status: 400 });
    await assert.rejects(ask(ai), (e: unknown) => e instanceof OpenAI.BadRequestError);
    assert.equal(backup.requestCount(), 0);
  });

  it('when every target fails the client gets the last upstream error', async () => {
    primary.inject({ status: 500 });
    backup.inject({ status: 503 });
    await assert.rejects(ask(ai), (e: unknown) => e instanceof OpenAI.APIError && e.status === 502);
  });
});

describe('keys: rotation, circuit breaking and adaptive balancing', () => {
  let good: Simulator;
  let bad: Simulator;
  let router: KeyRouter;
  let gw: Gateway | undefined;
  before(async () => {
    [good, bad] = await sims({ protocol: 'openai', name: 'good' }, { protocol: 'openai', name: 'bad' });
    router = await keyRouter({ 'key-good': good.url, 'key-bad': bad.url });
  });
  afterEach(async () => { await gw?.close(); gw = undefined; good.reset(); bad.reset(); });
  after(async () => { await router.close(); await closeAll(undefined, [good, bad]); });

  const twoKeys = (extra: Record<string, unknown> = {}) => ({
    providers: { p: { kind: 'openai', base_url: router.url('/v1'), models: ['m'], keys: [{ id: 'good', value: 'key-good' }, { id: 'bad', value: 'key-bad' }] } },
    ...extra,
  });

  it('a 429 on one key moves the request to another key of the same provider', async () => {
    gw = await gateway(twoKeys());
    const ai = client(gw);
    bad.setFault({ status: 429, headers: { 'retry-after': '30' } });
    for (let i = 0; i < 10; i++) {
      const res = await ask(ai, 'p/m');
      assert.match(res.choices[0].message.content ?? '', /^\[good\]/);
    }
    assert.ok(bad.requestCount() <= 1, `the rate-limited key cools down for retry-after (saw ${bad.requestCount()})`);
  });

  it('the circuit opens on a dead key, traffic stops reaching it, then it recovers', async () => {
    gw = await gateway({
      providers: {
        p: { kind: 'openai', base_url: router.url('/v1'), models: ['m'], keys: [{ id: 'bad', value: 'key-bad' }] },
        q: { kind: 'openai', base_url: router.url('/v1'), models: ['m'], keys: [{ id: 'good', value: 'key-good' }] },
      },
      routing: { fallbacks: { 'p/m': ['q/m'] } },
      circuit: { consecutive_failures: 3, cooldown_ms: 1500 },
    });
    const ai = client(gw);
    bad.setFault({ status: 500 });
    for (let i = 0; i < 10; i++) assert.match((await ask(ai, 'p/m')).choices[0].message.content ?? '', /^\[good\]/);
    assert.equal(bad.requestCount(), 3, 'the circuit opened after 3 consecutive failures and no traffic reached the key while open');
    const health = gw.registry.provider('p')!;
    assert.equal(health.keys[0].state, 'open');
    assert.equal(health.state, 'open');
    assert.equal(health.available_keys, 0);

    bad.setFault(null);
    await new Promise((r) => setTimeout(r, 1600));
    const probe = await ask(ai, 'p/m');
    assert.match(probe.choices[0].message.content ?? '', /^\[bad\]/, 'a probe goes through after the cooldown and succeeds');
    // Closed again; still marked degraded while its recent failures are inside the error-rate window.
    assert.equal(gw.registry.provider('p')!.keys[0].state, 'degraded');
    assert.equal(gw.registry.provider('p')!.available_keys, 1);
    for (let i = 0; i < 5; i++) assert.match((await ask(ai, 'p/m')).choices[0].message.content ?? '', /^\[bad\]/);
  });

  it('adaptive balancing shifts traffic off a slow key', async () => {
    // A key's share follows the ratio of the keys' latency averages, and each measured latency includes the gateway's and the
    // loopback hop's own time, which a busy machine adds to both keys alike: a slow key only 60 ms slower gets ~25% of the
    // traffic when that overhead reaches ~30 ms. 300 ms keeps the slow key well below a quarter under load as well.
    await Promise.all([good.close(), bad.close()]);
    [good, bad] = await sims({ protocol: 'openai', name: 'good' }, { protocol: 'openai', name: 'bad', latencyMs: 300 });
    await router.close();
    router = await keyRouter({ 'key-good': good.url, 'key-bad': bad.url });
    gw = await gateway(twoKeys());
    const ai = client(gw);
    for (let i = 0; i < 100; i++) await ask(ai, 'p/m');
    const slow = bad.requestCount();
    const fast = good.requestCount();
    assert.ok(slow < fast / 3, `slow key got ${slow}, fast key ${fast}`);
    assert.ok(slow >= 1, 'the slow key keeps a floor share');
  });
});
