/**
 * Upstreams fail and rate-limit per model: OpenAI's limits ("Rate limit reached for gpt-4o in organization …") and its
 * x-ratelimit-* headers are per model, and one model can fail while the others on the same key answer. So a key's circuit,
 * its rest after a rate limit and its headroom are kept per model (a lane): one tenant hammering a model that is down, or
 * over its limit, never takes the key away from another tenant using another model. A key the upstream refused (401) is
 * bad for every model: it is out of service for all of them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import { client, virtualKeys } from '../helpers/gateway.js';
import { scriptedUpstreamSuite } from '../helpers/scripted-upstream.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const failed = (message: string, type: string, code: string | null = null) => JSON.stringify({ error: { message, type, param: null, code } });
const tenants = { a: 'sk-tenant-a-0123456789', b: 'sk-tenant-b-0123456789' };
const ask = (c: OpenAI, model: string, stream = false) => stream
  ? c.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }], stream: true })
  : c.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] });

/** The status an SDK call failed with (0 when it did not fail). */
async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err.status ?? -1;
    throw err;
  }
}

async function answer(c: OpenAI, model: string, stream = false): Promise<string> {
  if (!stream) return (await (ask(c, model) as Promise<OpenAI.ChatCompletion>)).choices[0]!.message.content ?? '';
  let text = '';
  for await (const chunk of (await ask(c, model, true)) as AsyncIterable<OpenAI.ChatCompletionChunk>) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

describe('health lanes: a key\'s circuit, rest and headroom are kept per upstream model', () => {
  const suite = scriptedUpstreamSuite();

  /** One key serving the models `a` and `b`; tenants A and B each with a client of their own. */
  const start = async (models: string[] = ['a', 'b']): Promise<{ gw: Gateway; a: OpenAI; b: OpenAI }> => {
    const gw = await suite.start({
      providers: { p: { kind: 'openai', base_url: suite.up.url, models, keys: [{ id: 'k1', value: 'key-k1' }] } },
      circuit: { consecutive_failures: 2, cooldown_ms: 60_000 },
      governance: { keys: virtualKeys(tenants) },
    });
    return { gw, a: client(gw, tenants.a), b: client(gw, tenants.b) };
  };
  const keyView = (gw: Gateway) => gw.registry.provider('p')!.keys[0]!;

  it('a model that keeps answering 500 opens its own circuit; another tenant\'s model on the same key is still served', async () => {
    const { gw, a, b } = await start();
    suite.up.scriptModel('a', { status: 500, headers: JSON_TYPE, chunks: [failed('The server had an error', 'server_error')] });
    const seen = suite.up.seenModel('a');
    try {
      for (let i = 0; i < 4; i++) assert.ok([502, 503].includes(await statusOf(ask(a, 'p/a'))), 'tenant A sees its model fail');
      assert.equal(suite.up.seenModel('a') - seen, 2, 'the circuit of model a opened after 2 failures: no more calls for it');
      assert.equal(await answer(b, 'p/b'), 'fine', 'tenant B\'s model b is served on the same key');
      assert.equal(await answer(b, 'p/b', true), 'fine', 'streamed too');
      const k = keyView(gw);
      assert.equal(k.models.a!.breaker, 'open');
      assert.equal(k.models.b!.breaker, 'closed');
      assert.equal(k.state, 'degraded', 'the key serves b: degraded, not open');
      assert.equal(gw.registry.provider('p')!.available_keys, 1);
    } finally {
      suite.up.scriptModel('a', undefined);
    }
  });

  it('a model rate-limited with retry-after 60 rests alone: another tenant\'s model on the same key is still served', async () => {
    const { gw, a, b } = await start();
    suite.up.scriptModel('a', {
      status: 429, headers: { ...JSON_TYPE, 'retry-after': '60' },
      chunks: [failed('Rate limit reached for a in organization org-1 on requests per min (RPM): Limit 3, Used 3, Requested 1.', 'requests', 'rate_limit_exceeded')],
    });
    const seen = suite.up.seenModel('a');
    try {
      assert.equal(await statusOf(ask(a, 'p/a')), 429);
      assert.equal(await answer(b, 'p/b'), 'fine', 'tenant B\'s model b is served on the same key');
      assert.equal(await statusOf(ask(a, 'p/a')), 503, 'model a rests for its retry-after: not asked again');
      assert.equal(suite.up.seenModel('a') - seen, 1);
      const k = keyView(gw);
      assert.equal(k.models.a!.state, 'degraded');
      assert.equal(k.models.a!.available, false);
      assert.equal(k.models.b!.available, true);
    } finally {
      suite.up.scriptModel('a', undefined);
    }
  });

  it('exhausted rate-limit headers of one model rest that model only', async () => {
    const { gw, b } = await start();
    suite.up.scriptModel('a', {
      status: 200, headers: { ...JSON_TYPE, 'x-ratelimit-limit-requests': '100', 'x-ratelimit-remaining-requests': '0', 'retry-after': '60' },
      chunks: [JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'a', choices: [{ index: 0, message: { role: 'assistant', content: 'last one' }, finish_reason: 'stop' }] })],
    });
    try {
      assert.equal(await answer(client(gw, tenants.a), 'p/a'), 'last one');
      assert.equal(await answer(b, 'p/b'), 'fine', 'tenant B\'s model b is served on the same key');
      const k = keyView(gw);
      assert.deepEqual([k.models.a!.headroom, k.models.a!.available], [0, false]);
      assert.deepEqual([k.models.b!.headroom, k.models.b!.available], [1, true]);
    } finally {
      suite.up.scriptModel('a', undefined);
    }
  });

  it('a 401 on one model takes the key out for every model: the key is bad, not the model', async () => {
    const { gw, a, b } = await start();
    suite.up.scriptModel('a', { status: 401, headers: JSON_TYPE, chunks: [failed('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key')] });
    try {
      assert.ok([401, 502, 503].includes(await statusOf(ask(a, 'p/a'))));
      const before = suite.up.seenModel('b');
      assert.equal(await statusOf(ask(b, 'p/b')), 503, 'the key is out of service for model b too');
      assert.equal(suite.up.seenModel('b'), before, 'model b was not sent on the refused key');
      const k = keyView(gw);
      assert.deepEqual([k.state, k.breaker], ['open', 'open']);
      assert.equal(gw.registry.provider('p')!.available_keys, 0);
    } finally {
      suite.up.scriptModel('a', undefined);
    }
  });

  it('a model a routing rule names gets a lane, from the config file or the admin API, and keeps it isolated', async () => {
    const admin = 'admin-key-for-tests-0123456789';
    const gw = await suite.start({
      server: { admin_key: admin },
      providers: { p: { kind: 'openai', base_url: suite.up.url, keys: [{ id: 'k1', value: 'key-k1' }] } },
      circuit: { consecutive_failures: 1, cooldown_ms: 60_000 },
      rules: [{ name: 'to-a', cel_expression: 'model == "fast"', targets: [{ provider: 'p', model: 'a' }] }],
      governance: { keys: virtualKeys(tenants) },
    });
    assert.deepEqual(Object.keys(keyView(gw).models).sort(), ['*', 'a']);
    const res = await fetch(`${gw.url}/admin/rules`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ name: 'to-b', cel_expression: 'model == "slow"', targets: [{ provider: 'p', model: 'b' }] }),
    });
    assert.equal(res.status, 201, await res.text());
    assert.deepEqual(Object.keys(keyView(gw).models).sort(), ['*', 'a', 'b']);
    suite.up.scriptModel('b', { status: 500, headers: JSON_TYPE, chunks: [failed('The server had an error', 'server_error')] });
    try {
      const b = client(gw, tenants.b);
      assert.equal(await statusOf(ask(b, 'slow')), 502);
      assert.equal(keyView(gw).models.b!.breaker, 'open');
      assert.equal(await answer(client(gw, tenants.a), 'fast'), 'fine', 'the rule\'s other model is served');
      assert.equal(await answer(client(gw, tenants.a), 'p/anything'), 'fine', 'and the models no one named');
    } finally {
      suite.up.scriptModel('b', undefined);
    }
  });

  it('a key has lanes only for the models it serves: a model no healthy key serves reads as open, with no headroom', async () => {
    const gw = await suite.start({
      providers: { p: { kind: 'openai', base_url: suite.up.url, models: ['a', 'b'], keys: [{ id: 'k1', value: 'key-k1' }, { id: 'k2', value: 'key-k2', models: ['b'] }] } },
      circuit: { consecutive_failures: 2, cooldown_ms: 60_000 },
      rules: [{ name: 'a-down', cel_expression: 'model == "a" && health.p.models.a.available_keys == 0', targets: [{ provider: 'p', model: 'b' }] }],
      governance: { keys: virtualKeys(tenants) },
    });
    const a = client(gw, tenants.a);
    suite.up.scriptModel('a', { status: 500, headers: JSON_TYPE, chunks: [failed('The server had an error', 'server_error')] });
    try {
      for (let i = 0; i < 2; i++) assert.ok([502, 503].includes(await statusOf(ask(a, 'p/a'))));
      const p = gw.registry.provider('p')!;
      assert.deepEqual(Object.keys(p.keys.find((k) => k.id === 'k2')!.models), ['b'], 'k2 serves b only');
      assert.deepEqual([p.models.a!.state, p.models.a!.available_keys, p.models.a!.headroom], ['open', 0, 0]);
      assert.equal(p.models.b!.available_keys, 2);
      const seen = suite.up.seenModel('b');
      assert.equal(await answer(a, 'p/a'), 'fine', 'the rule that reads the model\'s health sends the request to b');
      assert.equal(suite.up.seenModel('b') - seen, 1);
    } finally {
      suite.up.scriptModel('a', undefined);
    }
  });

  it('models a caller names on a pass-through provider share one lane: no state per name', async () => {
    const { gw, a } = await start(['*']);
    for (let i = 0; i < 20; i++) assert.equal(await answer(a, `p/made-up-${i}`), 'fine');
    assert.deepEqual(Object.keys(keyView(gw).models), ['*']);
  });
});
