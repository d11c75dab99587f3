/**
 * A request the upstream refuses because it alone is over the account's limit — OpenAI's 429 "Request too large for gpt-4o
 * … on tokens per min (TPM): Limit 30000, Requested 45000" — rests no key and counts against none: no wait can help. It goes
 * on to the next key (another account may allow more) and the next target, and is the caller's 413, in the caller's
 * protocol, when none takes it. Resting keys for it would let one tenant's oversized prompts take every key away from every
 * other tenant. A genuine rate limit (a request within the limit) still rests the key and moves on to the next. A
 * successful reply larger than the gateway carries back (64 MB) is the caller's error at once: what the request asked for
 * is too large, whichever key answers.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import { gateway, post, provider, sims } from '../helpers/gateway.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'a very long prompt' }], ...extra });
const tooLarge = (requested: number) => ({
  error: {
    message: `Request too large for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Requested ${requested}. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.`,
    type: 'tokens', param: null, code: 'rate_limit_exceeded',
  },
});
const rateLimited = {
  error: {
    message: 'Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Used 28000, Requested 6000. Please try again in 8s. Visit https://platform.openai.com/account/rate-limits to learn more.',
    type: 'tokens', param: null, code: 'rate_limit_exceeded',
  },
};

describe('a request larger than the provider\'s rate limit, or asking for more than the gateway carries back, is the caller\'s error', () => {
  let up: ScriptedUpstream;
  let gw: Gateway | undefined;
  let n = 0;
  const id = () => `over-limit-${++n}`;

  before(async () => { up = await startScriptedUpstream(); });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });
  after(async () => { await up.close(); });

  const start = async (kind: 'openai' | 'anthropic' = 'openai') => {
    gw = await gateway({
      providers: { p: { kind, base_url: up.url, models: ['m'], keys: [{ id: 'k1', value: 'key-k1' }, { id: 'k2', value: 'key-k2' }] } },
      circuit: { consecutive_failures: 2, cooldown_ms: 60_000 },
    });
    return gw;
  };

  /** Both keys in service: not resting, no error counted, nothing in flight. */
  const untouched = (g: Gateway) => {
    const h = g.registry.provider('p')!;
    assert.deepEqual(h.keys.map((k) => [k.id, k.state, k.error_rate, k.in_flight]), [['k1', 'healthy', 0, 0], ['k2', 'healthy', 0, 0]]);
  };

  it('OpenAI\'s 429 "Request too large … Limit 30000, Requested 45000" is a 413 after one attempt; no key rests', async () => {
    const g = await start();
    for (let i = 0; i < 3; i++) {
      const rid = id();
      up.script(rid, { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '20' }, chunks: [JSON.stringify(tooLarge(45_000))] });
      const r = await post(g, '/v1/chat/completions', chat('p/m'), { 'x-request-id': rid });
      assert.equal(r.status, 413, r.text);
      assert.deepEqual([r.json.error.type, r.json.error.code], ['invalid_request_error', 'request_too_large']);
      assert.match(r.json.error.message, /too large for p's rate limit/);
      assert.match(r.json.error.message, /Limit 30000, Requested 45000/);
      assert.equal(r.headers.get('retry-after'), null, 'waiting cannot help');
      assert.equal(up.seen(rid), 2, 'tried on the other key too (another account may allow more)');
    }
    untouched(g);
    assert.equal((await post(g, '/v1/chat/completions', chat('p/m'))).status, 200, 'another tenant is still served');
  });

  it('the same refusal as the first event of a stream is the caller\'s 413 too', async () => {
    const g = await start();
    const rid = id();
    up.script(rid, { headers: { 'content-type': 'text/event-stream' }, chunks: [`data: ${JSON.stringify(tooLarge(61_337))}\n\n`] });
    const r = await post(g, '/v1/chat/completions', chat('p/m', { stream: true }), { 'x-request-id': rid });
    assert.equal(r.status, 413, r.text);
    assert.equal(r.json.error.code, 'request_too_large');
    assert.equal(up.seen(rid), 2);
    untouched(g);
  });

  it('an Anthropic Messages caller gets it in Anthropic\'s envelope', async () => {
    const g = await start();
    const rid = id();
    up.script(rid, { status: 429, headers: { 'content-type': 'application/json' }, chunks: [JSON.stringify(tooLarge(45_000))] });
    const r = await post(g, '/v1/messages', { model: 'p/m', max_tokens: 100, messages: [{ role: 'user', content: 'a very long prompt' }] }, { 'x-request-id': rid });
    assert.equal(r.status, 413, r.text);
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'request_too_large');
    assert.match(r.json.error.message, /Limit 30000, Requested 45000/);
    untouched(g);
  });

  it('another target takes a request too large for the first provider\'s account; the first provider\'s keys stay in service', async () => {
    const [other] = await sims({ protocol: 'openai', name: 'other' });
    try {
      gw = await gateway({
        providers: {
          p: { kind: 'openai', base_url: up.url, models: ['m'], keys: [{ id: 'k1', value: 'key-k1' }, { id: 'k2', value: 'key-k2' }] },
          q: provider(other, ['m']),
        },
        routing: { fallbacks: { 'p/m': ['q/m'] } },
        circuit: { consecutive_failures: 2, cooldown_ms: 60_000 },
      });
      const rid = id();
      up.script(rid, { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '20' }, chunks: [JSON.stringify(tooLarge(45_000))] });
      const r = await post(gw, '/v1/chat/completions', chat('p/m'), { 'x-request-id': rid });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-switchyard-provider'), 'q');
      untouched(gw);
    } finally {
      await other.close();
    }
  });

  it('a genuine rate limit (a request within the limit) still rests the key and moves on to the other', async () => {
    const g = await start();
    const rid = id();
    up.script(rid, { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '20' }, chunks: [JSON.stringify(rateLimited)] });
    const r = await post(g, '/v1/chat/completions', chat('p/m'), { 'x-request-id': rid });
    assert.equal(r.status, 429, r.text);
    assert.equal(r.json.error.code, 'upstream_rate_limited');
    assert.equal(up.seen(rid), 2, 'tried on both keys');
    const h = g.registry.provider('p')!;
    assert.deepEqual(h.keys.map((k) => [k.state, k.error_rate]), [['degraded', 0], ['degraded', 0]], 'resting, not failing');
  });

  it('a request exactly at the limit is a rate limit, not too large', async () => {
    const g = await start();
    const rid = id();
    up.script(rid, { status: 429, headers: { 'content-type': 'application/json' }, chunks: [JSON.stringify(tooLarge(30_000))] });
    const r = await post(g, '/v1/chat/completions', chat('p/m'), { 'x-request-id': rid });
    assert.equal(r.status, 429, r.text);
    assert.equal(up.seen(rid), 2);
  });

  it('Anthropic\'s per-minute limit that the request\'s own prompt is well over is a 413 after one attempt; a request within it still rests the key', async () => {
    const g = await start('anthropic');
    const perMinute = {
      type: 'error',
      error: {
        type: 'rate_limit_error',
        message: 'This request would exceed the rate limit for your organization (org-x) of 1,000 input tokens per minute. For details, refer to: https://docs.anthropic.com/en/api/rate-limits. Please reduce the prompt length or the maximum tokens requested, or try again later.',
      },
    };
    const refuse = (rid: string) => up.script(rid, { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '30' }, chunks: [JSON.stringify(perMinute)] });
    // About 3,000 tokens of prompt against a limit of 1,000 a minute: no wait can make room for it.
    const long = { model: 'p/m', messages: [{ role: 'user', content: 'Summarise the following report in three sentences. '.repeat(300) }] };
    const big = id();
    refuse(big);
    const r = await post(g, '/v1/chat/completions', long, { 'x-request-id': big });
    assert.equal(r.status, 413, r.text);
    assert.equal(r.json.error.code, 'request_too_large');
    assert.match(r.json.error.message, /1,000 input tokens per minute/);
    assert.equal(up.seen(big), 2, 'tried on the other key, neither rested');
    untouched(g);
    // A short prompt under the same words: the window is full, not the request too large; the keys rest as before.
    const small = id();
    refuse(small);
    const s = await post(g, '/v1/chat/completions', chat('p/m'), { 'x-request-id': small });
    assert.equal(s.status, 429, s.text);
    assert.equal(up.seen(small), 2, 'tried on both keys');
  });

  it('Anthropic\'s 413 request_too_large stays the caller\'s 413 with the keys untouched', async () => {
    const g = await start('anthropic');
    const rid = id();
    const body = { type: 'error', error: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' } };
    up.script(rid, { status: 413, headers: { 'content-type': 'application/json' }, chunks: [JSON.stringify(body)] });
    const r = await post(g, '/v1/chat/completions', chat('p/m'), { 'x-request-id': rid });
    assert.equal(r.status, 413, r.text);
    assert.match(r.json.error.message, /maximum allowed number of bytes/);
    assert.equal(up.seen(rid), 1);
    untouched(g);
  });

  it('a JSON reply over 64 MB is a 413 after one attempt; the keys stay in service for other requests', async () => {
    const g = await start();
    const mb = ' '.repeat(1 << 20);
    for (let i = 0; i < 3; i++) {
      const rid = id();
      // A thousand float embeddings of a large model: the body's first megabytes are all the gateway reads of it.
      up.script(rid, { status: 200, headers: { 'content-type': 'application/json' }, chunks: ['{"object":"list","data":[', ...Array.from({ length: 65 }, () => mb), ']}'] });
      const r = await post(g, '/v1/embeddings', { model: 'p/m', input: ['a', 'b'], encoding_format: 'float' }, { 'x-request-id': rid });
      assert.equal(r.status, 413, r.text.slice(0, 300));
      assert.equal(r.json.error.code, 'reply_too_large');
      assert.match(r.json.error.message, /encoding_format/);
      assert.equal(up.seen(rid), 1, 'not sent to the other key');
    }
    untouched(g);
    assert.equal((await post(g, '/v1/embeddings', { model: 'p/m', input: 'hello' })).status, 200, 'another tenant is still served');
  });
});
