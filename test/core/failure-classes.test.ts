/**
 * Failure classes as a client meets them: a revoked key rotates to another key and is taken out of service, a model one
 * provider lacks falls back, an upstream that hangs before its first byte is abandoned and counted at once, the caller's
 * own errors never touch a provider's health, and upstream text never carries a secret to the client.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { closeAll, gateway, post, provider, sims } from '../helpers/gateway.js';
import { keyRouter, type KeyRouter } from '../helpers/key-router.js';
import { startScriptedUpstream } from '../helpers/scripted-upstream.js';

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'ping' }], ...extra });

describe('failure classes end to end', () => {
  let good: Simulator;
  let revoked: Simulator;
  let backup: Simulator;
  let router: KeyRouter;
  let gw: Gateway | undefined;

  before(async () => {
    [good, revoked, backup] = await sims({ protocol: 'openai', name: 'good' }, { protocol: 'openai', name: 'revoked' }, { protocol: 'openai', name: 'backup', models: ['m'] });
    router = await keyRouter({ 'key-good-000001': good.url, 'key-revoked-01': revoked.url });
  });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    for (const s of [good, revoked, backup]) s.reset();
  });
  after(async () => {
    await router.close();
    await closeAll(undefined, [good, revoked, backup]);
  });

  it('a revoked key (401) rotates to another key, its circuit opens, and no client sees the failure', async () => {
    gw = await gateway({
      providers: {
        p: { kind: 'openai', base_url: router.url('/v1'), models: ['m'], keys: [{ id: 'revoked', value: 'key-revoked-01', weight: 100 }, { id: 'good', value: 'key-good-000001' }] },
      },
      circuit: { cooldown_ms: 60_000 },
    });
    revoked.setFault({ status: 401 });
    for (let i = 0; i < 10; i++) {
      const r = await post(gw, '/v1/chat/completions', chat('p/m'));
      assert.equal(r.status, 200);
      assert.match(r.json.choices[0].message.content, /^\[good\]/);
    }
    assert.equal(revoked.requestCount(), 1, 'the key is out of service after its first 401');
    const keys = gw.registry.provider('p')!.keys;
    assert.equal(keys.find((k) => k.id === 'revoked')!.state, 'open');
    assert.equal(keys.find((k) => k.id === 'good')!.state, 'healthy');
  });

  it('a model the provider does not serve (404) falls back to the next target; the provider stays healthy', async () => {
    const lacks = await sims({ protocol: 'openai', name: 'lacks', models: ['other'] });
    try {
      gw = await gateway({
        providers: { a: provider(lacks[0], ['m']), b: provider(backup, ['m']) },
        routing: { fallbacks: { 'a/m': ['b/m'] } },
      });
      const r = await post(gw, '/v1/chat/completions', chat('a/m'));
      assert.equal(r.status, 200);
      assert.match(r.json.choices[0].message.content, /^\[backup\]/);
      assert.equal(r.headers.get('x-switchyard-attempts'), '2');
      const h = gw.registry.provider('a')!;
      assert.deepEqual([h.state, h.error_rate], ['healthy', 0]);
    } finally {
      await lacks[0].close();
    }
  });

  it('the caller\'s errors, the upstream\'s 400 included, never change a provider\'s health', async () => {
    gw = await gateway({ providers: { b: provider(backup, ['m']) }, circuit: { consecutive_failures: 1 } });
    backup.inject({ status: 400, body: { error: { message: 'bad parameter', type: 'invalid_request_error', param: 'x', code: null } } }, 3);
    for (let i = 0; i < 3; i++) assert.equal((await post(gw, '/v1/chat/completions', chat('b/m'))).status, 400);
    for (const bad of [chat('b/m', { temperature: 'hot' }), { model: 'b/m', messages: [{ role: 'user', content: null }] }, chat('b/nope\n')]) {
      assert.equal((await post(gw, '/v1/chat/completions', bad)).status, 400);
    }
    const h = gw.registry.provider('b')!;
    assert.deepEqual([h.state, h.error_rate, h.keys[0].in_flight], ['healthy', 0, 0]);
    assert.equal((await post(gw, '/v1/chat/completions', chat('b/m'))).status, 200);
  });

  it('an upstream that hangs before its first byte is abandoned at the first-byte deadline and counted against it then', async () => {
    const hung = (await sims({ protocol: 'openai', name: 'hung' }))[0];
    try {
      gw = await gateway({
        providers: { h: provider(hung, ['m'], [{ id: 'k1' }], { timeout_ms: 60_000, first_byte_timeout_ms: 300 }), b: provider(backup, ['m']) },
        routing: { fallbacks: { 'h/m': ['b/m'] } },
        circuit: { consecutive_failures: 3, cooldown_ms: 60_000 },
      });
      hung.setFault({ hang: true });
      const stream = (i: number) => post(gw!, '/v1/chat/completions', chat('h/m', { stream: true, messages: [{ role: 'user', content: `story ${i}` }] }));
      const first = await Promise.all([0, 1, 2].map(stream));
      for (const r of first) {
        assert.equal(r.status, 200);
        assert.match(r.text, /\[backup\]/);
        assert.match(r.text, /data: \[DONE\]/);
      }
      assert.equal(gw.registry.provider('h')!.state, 'open', 'three missed first bytes opened the circuit');
      await Promise.all(hung.requests.map((q) => q.finished)); // the gateway let go of every hung attempt
      const later = await Promise.all([3, 4, 5].map(stream));
      for (const r of later) assert.match(r.text, /\[backup\]/);
      assert.equal(hung.requestCount(), 3, 'no request went to the hung provider once its circuit opened');
    } finally {
      await hung.close();
    }
  });

  it('upstream messages reach the client with secrets redacted: 4xx, 5xx and in-stream errors', async () => {
    gw = await gateway({ providers: { b: provider(backup, ['m'], [{ id: 'k1' }]) } });
    const leak = 'overloaded; key key-k1 and sk-live-0123456789abcdef tried';
    backup.inject({ status: 503, body: { error: { message: leak, type: 'server_error' } } });
    const five = await post(gw, '/v1/chat/completions', chat('b/m'));
    assert.equal(five.status, 502);
    assert.match(five.json.error.message, /overloaded; key \[redacted\] and \[redacted\] tried/);
    backup.inject({ status: 422, body: { error: { message: `rejected for ${'x'.repeat(2000)} key-k1`, type: 'invalid_request_error' } } });
    const four = await post(gw, '/v1/chat/completions', chat('b/m'));
    assert.equal(four.status, 422);
    assert.ok(four.json.error.message.length < 600, 'capped');
    assert.doesNotMatch(four.text, /key-k1/);
    for (const r of [five, four]) assert.doesNotMatch(r.text, /key-k1|sk-live-0123456789abcdef/);
  });

  it('an error event in the middle of a stream reaches the client redacted, and never as [DONE]', async () => {
    const up = await startScriptedUpstream();
    try {
      gw = await gateway({ providers: { s: { kind: 'openai', base_url: up.url, models: ['m'], keys: [{ id: 'k', value: 'scripted-secret-77' }] } } });
      const chunk = JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'hel' }, finish_reason: null }] });
      up.script('mid-stream-1', {
        headers: { 'content-type': 'text/event-stream' },
        chunks: [`data: ${chunk}\n\n`, `data: ${JSON.stringify({ error: { message: 'internal failure for key scripted-secret-77 (Bearer abcdef0123456789)', type: 'server_error' } })}\n\n`],
      });
      const r = await post(gw, '/v1/chat/completions', chat('s/m', { stream: true }), { 'x-request-id': 'mid-stream-1' });
      assert.equal(r.status, 200);
      assert.match(r.text, /data: \{"error":\{"message":"internal failure for key \[redacted\] \(\[redacted\]\)"/);
      assert.doesNotMatch(r.text, /scripted-secret-77|abcdef0123456789|\[DONE\]/);
    } finally {
      await up.close();
    }
  });
});
