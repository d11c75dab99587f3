import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, post, provider, sims } from '../helpers/gateway.js';

const ADMIN = 'admin-key-for-tests-0123456789';

describe('response cache through the openai client', () => {
  let up: Simulator;
  let gw: Gateway;
  let ai: OpenAI;
  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up', latencyMs: 30 });
    gw = await gateway({
      server: { admin_key: ADMIN },
      semantic: { reference_prompts: { watch: false } },
      cache: { enabled: true, max_entries: 50 },
      providers: { up: provider(up, ['m', 'other']) },
    });
    ai = client(gw);
  });
  afterEach(() => up.reset());
  after(() => closeAll(gw, [up]));

  const ask = (content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    ai.chat.completions.create({ model: 'up/m', messages: [{ role: 'user', content }], ...extra } as any, { headers }).withResponse() as Promise<{ data: OpenAI.Chat.Completions.ChatCompletion; response: Response }>;

  it('identical requests hit the exact layer; the answer is the stored one', async () => {
    const first = await ask('What is the capital of Australia?');
    assert.equal(first.response.headers.get('x-switchyard-cache'), 'miss');
    const second = await ask('What is the capital of Australia?');
    assert.equal(second.response.headers.get('x-switchyard-cache'), 'hit-exact');
    assert.equal(second.data.choices[0].message.content, first.data.choices[0].message.content);
    assert.equal(up.requestCount(), 1);
  });

  it('a paraphrase hits the semantic layer; a look-alike that asks something else does not', async () => {
    await ask('How do I reset my account password?');
    const para = await ask('How can I reset my account password?');
    assert.equal(para.response.headers.get('x-switchyard-cache'), 'hit-semantic');
    assert.ok(Number(para.response.headers.get('x-switchyard-cache-similarity')) > 0.89);

    await ask('How do I prepare for a job interview at Frost Bank?');
    const other = await ask('How do I prepare for a job interview at Commerce Bank?');
    assert.equal(other.response.headers.get('x-switchyard-cache'), 'miss');
    const neg = await ask('How can I not reset my account password?');
    assert.equal(neg.response.headers.get('x-switchyard-cache'), 'miss');
  });

  it('no hit across models or system prompts', async () => {
    await ask('Name three prime numbers');
    const otherModel = await ai.chat.completions.create({ model: 'up/other', messages: [{ role: 'user', content: 'Name three prime numbers' }] }).withResponse();
    assert.equal(otherModel.response.headers.get('x-switchyard-cache'), 'miss');
    const withSystem = await ai.chat.completions.create({ model: 'up/m', messages: [{ role: 'system', content: 'Answer in French.' }, { role: 'user', content: 'Name three prime numbers' }] }).withResponse();
    assert.equal(withSystem.response.headers.get('x-switchyard-cache'), 'miss');
  });

  it('a stored answer replays as a well-formed stream, and a streamed answer serves JSON', async () => {
    await ask('Describe the water cycle briefly');
    const stream = await ai.chat.completions.create({ model: 'up/m', stream: true, messages: [{ role: 'user', content: 'Describe the water cycle briefly' }] }).withResponse();
    assert.equal(stream.response.headers.get('x-switchyard-cache'), 'hit-exact');
    let text = '';
    let finish: string | null = null;
    for await (const c of stream.data) {
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.match(text, /water cycle/);
    assert.equal(finish, 'stop');

    const s2 = await ai.chat.completions.create({ model: 'up/m', stream: true, messages: [{ role: 'user', content: 'List the planets in order' }] });
    let streamed = '';
    for await (const c of s2) streamed += c.choices[0]?.delta?.content ?? '';
    const json = await ask('List the planets in order');
    assert.equal(json.response.headers.get('x-switchyard-cache'), 'hit-exact');
    assert.equal(json.data.choices[0].message.content, streamed);
  });

  it('an incomplete stream is never stored', async () => {
    up.inject({ cutAfterChunks: 2 });
    const raw = await post(gw, '/v1/chat/completions', { model: 'up/m', stream: true, messages: [{ role: 'user', content: 'Tell me a long story about dragons' }] });
    assert.doesNotMatch(raw.text, /\[DONE\]/);
    const again = await ask('Tell me a long story about dragons');
    assert.equal(again.response.headers.get('x-switchyard-cache'), 'miss');
  });

  it('concurrent identical misses make one upstream call', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => ask('What is single flight in caching?')));
    assert.equal(up.requestCount(), 1);
    const contents = new Set(results.map((r) => r.data.choices[0].message.content));
    assert.equal(contents.size, 1);
  });

  it('caller controls: bypass, no-store, TTL, and a threshold that can only be raised', async () => {
    await ask('What is the boiling point of water at sea level?');
    const bypass = await ask('What is the boiling point of water at sea level?', {}, { 'x-switchyard-cache': 'bypass' });
    assert.equal(bypass.response.headers.get('x-switchyard-cache'), 'bypass');
    await ask('Who wrote the Odyssey?', {}, { 'x-switchyard-cache': 'no-store' });
    assert.equal((await ask('Who wrote the Odyssey?')).response.headers.get('x-switchyard-cache'), 'miss');

    await ask('What is the speed of light?', {}, { 'x-switchyard-cache-ttl': '1' });
    assert.equal((await ask('What is the speed of light?')).response.headers.get('x-switchyard-cache'), 'hit-exact');
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal((await ask('What is the speed of light?')).response.headers.get('x-switchyard-cache'), 'miss');

    await ask('How do I change my email address?');
    const loosen = await ask('How can I change my email address?', {}, { 'x-switchyard-cache-threshold': '0.1' });
    const strict = await ask('How can I change my email address?', {}, { 'x-switchyard-cache-threshold': '0.999' });
    assert.equal(loosen.response.headers.get('x-switchyard-cache'), 'hit-semantic', 'a lower threshold is ignored, the default still applies');
    assert.equal(strict.response.headers.get('x-switchyard-cache'), 'miss', 'a higher one applies');
  });

  it('skips requests that should not be cached', async () => {
    const n2 = await ask('Give me a random number', { n: 2 });
    assert.equal(n2.response.headers.get('x-switchyard-cache'), 'skip');
    const hot = await ask('Give me a random number', { temperature: 1.8 });
    assert.equal(hot.response.headers.get('x-switchyard-cache'), 'skip');
  });

  it('reports stats to operators', async () => {
    const res = await fetch(`${gw.url}/v1/cache/stats`, { headers: { 'x-admin-key': ADMIN } });
    assert.equal(res.status, 200);
    const stats = (await res.json()) as any;
    assert.ok(stats.totals.hits_exact >= 5, JSON.stringify(stats.totals));
    assert.ok(stats.totals.hits_semantic >= 2);
    assert.equal(stats.index_dims, 512, 'the default embedder\'s full vectors are searched');
    assert.deepEqual(stats.index_graph, { M: 16, ef_construction: 100, ef_search: 64 }, 'with the graph defaults');
    assert.ok(stats.totals.misses >= 8);
    assert.ok(stats.totals.skips_total >= 2);
    assert.ok(stats.totals.hit_rate > 0 && stats.totals.hit_rate < 1);
    assert.equal(stats.last_5m.hits_exact, stats.totals.hits_exact);
    assert.ok(stats.by_model['up/m'].lookups > 0);
    const denied = await fetch(`${gw.url}/v1/cache/stats`);
    assert.equal(denied.status, 401);
    const flush = await fetch(`${gw.url}/admin/cache`, { method: 'DELETE', headers: { 'x-admin-key': ADMIN } });
    assert.equal(flush.status, 200);
    assert.equal((await ask('What is the capital of Australia?')).response.headers.get('x-switchyard-cache'), 'miss');
  });
});
