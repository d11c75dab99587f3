import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { closeAll, gateway, provider, sims } from '../helpers/gateway.js';
import { redisSkip, suite, TEST_REDIS_URL } from '../helpers/requires.js';

const ADMIN = 'admin-key-for-tests-0123456789';
const KEYS = { a: 'sk-sy-resp-a-000000000000001', b: 'sk-sy-resp-b-000000000000002' };
const WEATHER = {
  type: 'function' as const, name: 'get_weather', description: 'Weather for a city', strict: false,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('OpenAI Responses API through the official client', () => {
  let alpha: Simulator;
  let beta: Simulator;
  let gw: Gateway;
  let ai: OpenAI;
  let other: OpenAI;

  before(async () => {
    [alpha, beta] = await sims({ protocol: 'openai', name: 'alpha' }, { protocol: 'anthropic', name: 'beta' });
    gw = await gateway({
      cache: { enabled: true, semantic: false },
      providers: { alpha: provider(alpha, ['gpt-4o-mini']), beta: provider(beta, ['claude']) },
      server: { admin_key: ADMIN },
      governance: {
        pricing: { 'alpha/gpt-4o-mini': { input: 1000, output: 1000 } },
        keys: [{ id: 'ka', name: 'A', key: KEYS.a }, { id: 'kb', name: 'B', key: KEYS.b, budget: { limit_usd: 100, period: 'total' } }],
      },
      rules: [{ name: 'responses-to-beta', cel_expression: 'protocol == "openai.responses" && model == "routed"', targets: [{ provider: 'beta', model: 'claude' }] }],
    });
    const opts = { baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 20_000 };
    ai = new OpenAI({ apiKey: KEYS.a, ...opts });
    other = new OpenAI({ apiKey: KEYS.b, ...opts });
  });
  after(() => closeAll(gw, [alpha, beta]));

  it('answers a string input with instructions as a Response object', async () => {
    const { data: r, response } = await ai.responses.create({
      model: 'gpt-4o-mini', instructions: 'Be brief.', input: 'hello responses', max_output_tokens: 64, temperature: 0.2, top_p: 0.9,
    }).withResponse();
    assert.equal(r.object, 'response');
    assert.match(r.id, /^resp_[0-9a-f]{48}$/);
    assert.equal(r.status, 'completed');
    assert.match(r.output_text, /^\[alpha\] .*hello responses/);
    assert.equal(r.output.length, 1);
    assert.equal(r.output[0]!.type, 'message');
    assert.ok(r.usage && r.usage.input_tokens > 0 && r.usage.output_tokens > 0);
    assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
    assert.equal(response.headers.get('x-switchyard-provider'), 'alpha');
    const sent = alpha.requests.at(-1)!.body!;
    assert.deepEqual(sent.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello responses' }]);
    assert.equal(sent.max_completion_tokens, 64);
    assert.equal(sent.temperature, 0.2);
    assert.equal(sent.top_p, 0.9);
  });

  it('calls a function tool, then continues from previous_response_id with the tool output', async () => {
    const first = await ai.responses.create({
      model: 'gpt-4o-mini', input: [{ role: 'user', content: [{ type: 'input_text', text: 'weather in Oslo?' }] }],
      tools: [WEATHER], tool_choice: { type: 'function', name: 'get_weather' },
    });
    const sentTools = alpha.requests.at(-1)!.body!;
    assert.deepEqual(sentTools.tool_choice, { type: 'function', function: { name: 'get_weather' } });
    assert.equal((sentTools.tools as any[])[0].function.name, 'get_weather');
    const call = first.output.find((o) => o.type === 'function_call');
    assert.ok(call && call.type === 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.ok(call.call_id.length > 0);

    const second = await ai.responses.create({
      model: 'gpt-4o-mini', previous_response_id: first.id, tools: [WEATHER],
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21C' }],
    });
    assert.equal(second.previous_response_id, first.id);
    assert.equal(second.status, 'completed');
    const messages = alpha.requests.at(-1)!.body!.messages as any[];
    assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'tool']);
    assert.equal(messages[1].tool_calls[0].id, call.call_id);
    assert.equal(messages[2].tool_call_id, call.call_id);
    assert.equal(messages[2].content, 'sunny, 21C');
  });

  it('keeps a stored response readable by its own virtual key only', async () => {
    const r = await ai.responses.create({ model: 'gpt-4o-mini', input: 'remember me' });
    const got = await ai.responses.retrieve(r.id);
    assert.equal(got.id, r.id);
    assert.equal(got.output_text, r.output_text);
    await assert.rejects(other.responses.retrieve(r.id), (e: any) => e.status === 404);
    await assert.rejects(
      other.responses.create({ model: 'gpt-4o-mini', previous_response_id: r.id, input: 'and now?' }),
      (e: any) => e.status === 400 && e.param === 'previous_response_id' && e.code === 'previous_response_not_found',
    );
    const unstored = await ai.responses.create({ model: 'gpt-4o-mini', input: 'forget me', store: false });
    await assert.rejects(ai.responses.retrieve(unstored.id), (e: any) => e.status === 404);
    await ai.responses.delete(r.id);
    await assert.rejects(ai.responses.retrieve(r.id), (e: any) => e.status === 404);
  });

  it('streams the Responses event sequence with sequence numbers and usage', async () => {
    const stream = ai.responses.stream({ model: 'gpt-4o-mini', input: 'stream me please' });
    const types: string[] = [];
    const seqs: number[] = [];
    let text = '';
    for await (const ev of stream) {
      types.push(ev.type);
      seqs.push(ev.sequence_number);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
    }
    const final = await stream.finalResponse();
    assert.deepEqual(seqs, seqs.map((_, i) => i));
    assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    assert.ok(types.filter((t) => t === 'response.output_text.delta').length > 1);
    assert.match(text, /^\[alpha\] .*stream me please/);
    assert.equal(final.output_text, text);
    assert.ok(final.usage && final.usage.output_tokens > 0);
    const stored = await ai.responses.retrieve(final.id);
    assert.equal(stored.output_text, text);
  });

  it('streams function-call argument deltas with create({stream: true})', async () => {
    const stream = await ai.responses.create({
      model: 'gpt-4o-mini', input: 'weather?', stream: true, tools: [WEATHER], tool_choice: 'required',
    });
    const types: string[] = [];
    let args = '';
    let done: any;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.function_call_arguments.delta') args += ev.delta;
      if (ev.type === 'response.function_call_arguments.done') assert.equal(ev.arguments, args);
      if (ev.type === 'response.completed') done = ev.response;
    }
    assert.ok(types.includes('response.function_call_arguments.delta'));
    assert.equal(types.at(-1), 'response.completed');
    const call = done.output.find((o: any) => o.type === 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.equal(call.arguments, args);
  });

  it('ends a stream that breaks upstream with an error event, never a completion', async () => {
    alpha.inject({ cutAfterChunks: 3 });
    const stream = await ai.responses.create({ model: 'gpt-4o-mini', input: 'this one breaks', stream: true });
    const events: any[] = [];
    for await (const ev of stream) events.push(ev);
    assert.equal(events[0].type, 'response.created');
    assert.equal(events.at(-1).type, 'error');
    assert.equal(events.at(-1).sequence_number, events.length - 1);
    assert.ok(!events.some((e) => e.type === 'response.completed'));
    alpha.inject({ cutAfterChunks: 3 });
    await assert.rejects(ai.responses.stream({ model: 'gpt-4o-mini', input: 'this one breaks too' }).finalResponse());
  });

  it('sends images as chat image parts', async () => {
    await ai.responses.create({
      model: 'gpt-4o-mini',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'what is this?' }, { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' }] }],
    });
    const sent = alpha.requests.at(-1)!.body!.messages as any[];
    assert.deepEqual(sent[0].content, [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } }]);
  });

  it('rules read the inbound protocol', async () => {
    const viaResponses = await ai.responses.create({ model: 'routed', input: 'which way?' });
    assert.match(viaResponses.output_text, /^\[beta\]/);
    await assert.rejects(ai.chat.completions.create({ model: 'routed', messages: [{ role: 'user', content: 'which way?' }] }), (e: any) => e.status === 404);
  });

  it('serves an answer cached from a chat completion as a Response', async () => {
    const chat = await ai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'cache across protocols' }] });
    const { data, response } = await ai.responses.create({ model: 'gpt-4o-mini', input: 'cache across protocols' }).withResponse();
    assert.equal(response.headers.get('x-switchyard-cache'), 'hit-exact');
    assert.equal(data.output_text, chat.choices[0]!.message.content);
    // A reply stored from a Responses stream replays to a chat stream, and to a Responses stream again.
    const first = ai.responses.stream({ model: 'gpt-4o-mini', input: 'replay me as parts' });
    for await (const _ of first) { /* drain */ }
    const stored = (await first.finalResponse()).output_text;
    const calls = alpha.requestCount();
    let chatText = '';
    for await (const c of await ai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'replay me as parts' }] })) {
      chatText += c.choices[0]?.delta.content ?? '';
    }
    const again = ai.responses.stream({ model: 'gpt-4o-mini', input: 'replay me as parts' });
    for await (const _ of again) { /* drain */ }
    assert.equal(chatText, stored);
    assert.equal((await again.finalResponse()).output_text, stored);
    assert.equal(alpha.requestCount(), calls, 'both served from the cache');
  });

  it('settles usage and cost for JSON and streamed responses as for chat', async () => {
    const usageOf = async () => ((await (await fetch(`${gw.url}/admin/keys/kb/usage`, { headers: { 'x-admin-key': ADMIN } })).json()) as any).budget.used_usd as number;
    const before = await usageOf();
    const json = await other.responses.create({ model: 'gpt-4o-mini', input: 'bill me once' });
    const stream = other.responses.stream({ model: 'gpt-4o-mini', input: 'bill me twice' });
    for await (const _ of stream) { /* drain */ }
    const streamed = await stream.finalResponse();
    const tokens = json.usage!.total_tokens + streamed.usage!.total_tokens;
    assert.equal(Math.round((await usageOf() - before) * 1e6), tokens * 1000, 'USD 0.001 a token');
  });

  it('refuses bad input in the OpenAI error envelope, naming the field', async () => {
    const post = (body: unknown) => fetch(`${gw.url}/v1/responses`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.a}` }, body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, json: await r.json() as any }));
    const cases: Array<[unknown, string]> = [
      [{ input: 'x' }, 'model'],
      [{ model: 'gpt-4o-mini' }, 'input'],
      [{ model: 'gpt-4o-mini', input: [{ role: 'robot', content: 'x' }] }, 'input[0].role'],
      [{ model: 'gpt-4o-mini', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text' }] }] }, 'input[0].content[0].text'],
      [{ model: 'gpt-4o-mini', input: 'x', tools: [{ type: 'web_search' }] }, 'tools[0].type'],
      [{ model: 'gpt-4o-mini', input: 'x', max_output_tokens: 0 }, 'max_output_tokens'],
      [{ model: 'gpt-4o-mini', input: 'x', previous_response_id: 'resp_nope' }, 'previous_response_id'],
      [{ model: 'gpt-4o-mini', input: 'x', frobnicate: 1 }, 'frobnicate'],
    ];
    for (const [body, param] of cases) {
      const r = await post(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.equal(r.json.error.param, param, JSON.stringify(r.json));
    }
    // Whatever shape the fields take, the answer is a reply or a 4xx in the envelope: never a 5xx, never a crash.
    const field = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom<unknown>('x', [], [{}], [{ type: 'message' }], [{ role: 'user', content: [{ type: 'input_image' }] }], [{ type: 'function_call_output', call_id: 'c' }]));
    await fc.assert(fc.asyncProperty(
      fc.record({ input: field, tools: field, tool_choice: field, text: field, instructions: field, metadata: field, store: field, previous_response_id: field }, { requiredKeys: [] }),
      async (fields) => {
        const r = await post({ model: 'gpt-4o-mini', ...fields });
        assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `${r.status} ${JSON.stringify(r.json)}`);
        if (r.status !== 200) assert.equal(typeof r.json.error.message, 'string');
      },
    ), { numRuns: 60, seed: 7 });
    const unknown = await fetch(`${gw.url}/v1/responses/resp_${'0'.repeat(48)}`, { headers: { authorization: `Bearer ${KEYS.a}` } });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as any).error.code, 'not_found');
  });
});

suite('stored responses shared by two gateways on Redis', redisSkip, () => {
  let up: Simulator;
  let one: Gateway;
  let two: Gateway;
  const prefix = `test:${randomUUID()}:`;

  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    const cfg = {
      redis: { url: TEST_REDIS_URL, key_prefix: prefix },
      responses: { store: 'redis', ttl_s: 120 },
      providers: { up: provider(up, ['m']) },
      governance: { keys: [{ id: 'ka', name: 'A', key: KEYS.a }, { id: 'kb', name: 'B', key: KEYS.b }] },
    };
    [one, two] = await Promise.all([gateway(cfg), gateway(cfg)]);
  });
  after(async () => {
    await one?.close();
    await closeAll(two, [up]);
  });

  it('continues on one gateway a conversation started on the other, for the same key only', async () => {
    const opts = { maxRetries: 0, timeout: 20_000 };
    const first = await new OpenAI({ apiKey: KEYS.a, baseURL: `${one.url}/v1`, ...opts }).responses.create({ model: 'm', input: 'first turn' });
    const onTwo = new OpenAI({ apiKey: KEYS.a, baseURL: `${two.url}/v1`, ...opts });
    assert.equal((await onTwo.responses.retrieve(first.id)).output_text, first.output_text);
    await onTwo.responses.create({ model: 'm', previous_response_id: first.id, input: 'second turn' });
    const messages = up.requests.at(-1)!.body!.messages as any[];
    assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'user']);
    assert.equal(messages[1].content, first.output_text);
    const otherKey = new OpenAI({ apiKey: KEYS.b, baseURL: `${two.url}/v1`, ...opts });
    await assert.rejects(otherKey.responses.retrieve(first.id), (e: any) => e.status === 404);
  });
});
