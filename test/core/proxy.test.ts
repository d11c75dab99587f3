import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, post, provider, sims } from '../helpers/gateway.js';

describe('OpenAI-compatible proxy through the official client', () => {
  let alpha: Simulator;
  let beta: Simulator;
  let gamma: Simulator;
  let gw: Gateway;
  let ai: OpenAI;

  before(async () => {
    [alpha, beta, gamma] = await sims({ protocol: 'openai', name: 'alpha' }, { protocol: 'openai', name: 'beta' }, { protocol: 'openai', name: 'gamma' });
    gw = await gateway({
      providers: {
        alpha: provider(alpha, ['gpt-4o-mini', 'text-embedding-3-small', 'gpt-3.5-turbo-instruct']),
        // This provider keeps every tenant on the key's own account and features: it forwards no caller header.
        beta: provider(beta, ['gpt-4o'], [{ id: 'k1' }], { forward_headers: [] }),
        // This one lets callers choose which of the key's accounts is billed.
        gamma: provider(gamma, ['gpt-4.1'], [{ id: 'k1' }], { forward_headers: ['openai-organization', 'openai-project', 'x-stainless-arch', 'anthropic-beta'] }),
      },
      aliases: { smart: { targets: [{ target: 'beta/gpt-4o', weight: 1 }] } },
    });
    ai = client(gw);
  });
  after(() => closeAll(gw, [alpha, beta, gamma]));

  it('answers a chat completion and names where it went', async () => {
    const { data, response } = await ai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] })
      .withResponse();
    assert.match(data.choices[0].message.content ?? '', /^\[alpha\] .*hello there/);
    assert.equal(data.object, 'chat.completion');
    assert.ok(data.usage && data.usage.total_tokens > 0);
    assert.equal(response.headers.get('x-switchyard-provider'), 'alpha');
    assert.equal(response.headers.get('x-switchyard-model'), 'gpt-4o-mini');
    assert.equal(response.headers.get('x-switchyard-attempts'), '1');
    assert.equal(response.headers.get('x-switchyard-rule'), 'default');
    assert.ok(response.headers.get('x-request-id'));
  });

  it('routes provider/model, aliases and bare names', async () => {
    const viaAlias = await ai.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'a' }] });
    assert.match(viaAlias.choices[0].message.content ?? '', /^\[beta\]/);
    const explicit = await ai.chat.completions.create({ model: 'beta/gpt-4o', messages: [{ role: 'user', content: 'b' }] });
    assert.match(explicit.choices[0].message.content ?? '', /^\[beta\]/);
    const lastBody = beta.requests.at(-1)!.body!;
    assert.equal(lastBody.model, 'gpt-4o', 'the upstream sees its own model name');
  });

  it('passes every request field through', async () => {
    await ai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'x' }],
      temperature: 0.3, top_p: 0.9, n: 2, logprobs: true, top_logprobs: 2, user: 'u-1', seed: 7,
      response_format: { type: 'json_object' }, stop: ['END'],
    });
    const body = alpha.requests.at(-1)!.body!;
    for (const [k, v] of Object.entries({ temperature: 0.3, top_p: 0.9, n: 2, logprobs: true, top_logprobs: 2, user: 'u-1', seed: 7 })) {
      assert.deepEqual(body[k], v, k);
    }
    assert.deepEqual(body.response_format, { type: 'json_object' });
    assert.deepEqual(body.stop, ['END']);
  });

  it('forwards the caller\'s body bytes unchanged when nothing changes the request, and its serialisation otherwise', async () => {
    // Spacing, key order and an escaped character no serialiser of the parsed body would reproduce.
    const text = '{ "messages" : [ {"role":"user","content":"caf\\u00e9 bytes"} ],\n  "model": "gpt-4o-mini", "temperature": 1.0 }';
    const same = await post(gw, '/v1/chat/completions', text);
    assert.equal(same.status, 200);
    assert.equal(alpha.requests.at(-1)!.text, text);
    // The model renamed for its target (an alias): the upstream gets the body with its own model name, serialised.
    const renamed = await post(gw, '/v1/chat/completions', text.replace('gpt-4o-mini', 'smart'));
    assert.equal(renamed.status, 200);
    const sent = beta.requests.at(-1)!;
    assert.notEqual(sent.text, text.replace('gpt-4o-mini', 'smart'));
    assert.deepEqual(JSON.parse(sent.text), { ...JSON.parse(text), model: 'gpt-4o' });
  });

  it('never forwards a key the gateway did not inspect: a body repeating a key goes upstream as parsed (the last value only)', async () => {
    // Colons, escaped quotes and backslashes inside strings are not members; the first "messages" is what parsing drops.
    const kept = '[{"role":"user","content":"a: \\"b\\": c\\\\"}]';
    const text = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"dropped: ann@example.com"}],"messages":${kept}}`;
    const res = await post(gw, '/v1/chat/completions', text);
    assert.equal(res.status, 200);
    const sent = alpha.requests.at(-1)!.text;
    assert.doesNotMatch(sent, /dropped/);
    assert.deepEqual(JSON.parse(sent), { model: 'gpt-4o-mini', messages: JSON.parse(kept) });
    // The same members once each: the caller's own bytes again, strings with colons and escapes included.
    const single = `{"model":"gpt-4o-mini", "messages":${kept}}`;
    assert.equal((await post(gw, '/v1/chat/completions', single)).status, 200);
    assert.equal(alpha.requests.at(-1)!.text, single);
  });

  it('sends on only the caller headers a provider forwards: not the billed account\'s by default, none where forward_headers is []', async () => {
    const headers = { 'openai-organization': 'org-chosen-by-caller', 'openai-project': 'proj-x', 'anthropic-beta': 'paid-beta', 'x-stainless-arch': 'x64', 'x-other': 'never', cookie: 'c=1' };
    const expected = [
      ['alpha/gpt-4o-mini', alpha, ['anthropic-beta', 'x-stainless-arch']],
      ['beta/gpt-4o', beta, []],
      ['gamma/gpt-4.1', gamma, ['openai-organization', 'openai-project', 'anthropic-beta', 'x-stainless-arch']],
    ] as const;
    for (const [model, sim, names] of expected) {
      const r = await post(gw, '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, headers);
      assert.equal(r.status, 200);
      const sent = sim.requests.at(-1)!.headers;
      const forwarded = ['openai-organization', 'openai-project', 'anthropic-beta', 'x-stainless-arch'].filter((h) => sent[h] !== undefined);
      assert.deepEqual(forwarded, names, model);
      assert.equal(sent['x-other'], undefined);
      assert.equal(sent.cookie, undefined);
    }
  });

  it('keeps the caller\'s request id', async () => {
    const res = await post(gw, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }, { 'x-request-id': 'req-abc-123' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'req-abc-123');
    assert.equal(alpha.requests.at(-1)!.headers['x-request-id'], 'req-abc-123');
  });

  it('streams chat completions as SSE ending in [DONE]', async () => {
    const stream = await ai.chat.completions.create({
      model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'stream this please' }],
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.match(text, /^\[alpha\] .*stream this please/);
    assert.equal(finish, 'stop');
    assert.ok(usage && usage.completion_tokens > 0);
    const raw = await post(gw, '/v1/chat/completions', { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(raw.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.ok(raw.text.trimEnd().endsWith('data: [DONE]'));
  });

  it('returns tool calls', async () => {
    const res = await ai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: 'required',
    });
    assert.equal(res.choices[0].finish_reason, 'tool_calls');
    assert.equal(res.choices[0].message.tool_calls?.[0].type, 'function');
    assert.deepEqual(alpha.requests.at(-1)!.body!.tool_choice, 'required');
  });

  it('serves embeddings, legacy completions and the model list', async () => {
    const emb = await ai.embeddings.create({ model: 'text-embedding-3-small', input: ['one', 'two'] });
    assert.equal(emb.data.length, 2);
    assert.ok(emb.data[0].embedding.length > 0);
    const comp = await ai.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi' });
    assert.equal(comp.object, 'text_completion');
    assert.match(comp.choices[0].text, /Say hi/);
    const models = await ai.models.list();
    const ids = models.data.map((m) => m.id);
    for (const id of ['smart', 'alpha/gpt-4o-mini', 'beta/gpt-4o', 'gpt-4o-mini']) assert.ok(ids.includes(id), id);
  });

  it('reports health and readiness', async () => {
    const health = await fetch(`${gw.url}/health`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${gw.url}/ready`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { providers: number }).providers, 3);
  });
});
