/**
 * The Anthropic Messages API in front of the gateway, spoken by the official @anthropic-ai/sdk: one pipeline, three provider
 * kinds behind it (Anthropic, OpenAI-compatible, Azure), messages, streaming helpers, a tool-use round trip, count_tokens,
 * Anthropic's errors, the `protocol` rule variable and a cache entry shared across protocols.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, post, provider, sims } from '../helpers/gateway.js';

const KEY = 'sk-vk-anthropic-edge';
const BILLED = 'sk-vk-anthropic-billed';
const ADMIN = 'admin-key-anthropic-edge-0123456789';

describe('Anthropic Messages API with the official SDK', () => {
  let claude: Simulator;
  let oa: Simulator;
  let az: Simulator;
  let gw: Gateway;
  let sdk: Anthropic;
  before(async () => {
    [claude, oa, az] = await sims({ protocol: 'anthropic', name: 'claude' }, { protocol: 'openai', name: 'oa' }, { protocol: 'azure', name: 'az', models: ['prod-mini'] });
    gw = await gateway({
      providers: {
        anthropic: provider(claude, ['claude-sonnet-4-5']),
        openai: provider(oa, ['gpt-4o-mini']),
        azure: provider(az, ['gpt-4o-mini'], [{ id: 'k1' }], { api_version: '2024-10-21', deployments: { 'gpt-4o-mini': 'prod-mini' } }),
      },
      rules: [
        { name: 'messages-door', priority: 10, cel_expression: 'protocol == "anthropic.messages" && model == "door"', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'other-doors', priority: 20, cel_expression: 'model == "door"', targets: [{ provider: 'azure', model: 'gpt-4o-mini' }] },
      ],
      cache: { enabled: true, max_entries: 50 },
      server: { admin_key: ADMIN },
      governance: {
        pricing: { 'anthropic/claude-sonnet-4-5': { input: 1000, output: 1000 }, 'openai/gpt-4o-mini': { input: 1000, output: 1000 } },
        keys: [{ id: 'edge', name: 'Edge', key: KEY }, { id: 'billed', name: 'Billed', key: BILLED, budget: { limit_usd: 100, period: 'total' } }],
      },
    });
    sdk = new Anthropic({ apiKey: KEY, baseURL: gw.url, maxRetries: 0, timeout: 20_000 });
  });
  after(() => closeAll(gw, [claude, oa, az]));

  it('Anthropic → Anthropic: system, parameters and usage carried; the reply is a Message', async () => {
    // Sampling parameters the Messages API still accepts, though this SDK version no longer types them.
    const sampling = { temperature: 0.5, top_k: 20 };
    const msg = await sdk.messages.create({
      ...sampling, model: 'anthropic/claude-sonnet-4-5', max_tokens: 300, system: 'You are terse.',
      stop_sequences: ['never-here'], metadata: { user_id: 'u-1' },
      messages: [{ role: 'user', content: 'hello claude' }],
    }, { headers: { 'anthropic-beta': 'some-beta-2025' } });
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.match(msg.id, /^msg_/);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.content[0].type, 'text');
    assert.match(msg.content[0].type === 'text' ? msg.content[0].text : '', /^\[claude\] .*hello claude/);
    assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0);
    const sent = claude.requests.at(-1)!;
    assert.equal(sent.body!.system, 'You are terse.');
    assert.equal(sent.body!.max_tokens, 300);
    assert.equal(sent.body!.top_k, 20);
    assert.equal(sent.body!.temperature, 0.5);
    assert.deepEqual(sent.body!.stop_sequences, ['never-here']);
    assert.deepEqual(sent.body!.metadata, { user_id: 'u-1' });
    assert.equal(sent.headers['anthropic-beta'], 'some-beta-2025');
    assert.equal(sent.key, 'key-k1', 'the upstream sees the provider key, never the virtual key');
  });

  it('Anthropic → Anthropic keeps full fidelity: the caller\'s own request goes up, the upstream\'s bytes come back', async () => {
    const history = [
      { role: 'user' as const, content: [{ type: 'text' as const, text: 'first', cache_control: { type: 'ephemeral' as const } }] },
      { role: 'assistant' as const, content: [{ type: 'thinking' as const, thinking: 'mull', signature: 'sig-1' }, { type: 'text' as const, text: 'ok' }] },
      { role: 'user' as const, content: 'second' },
    ];
    const { data, response } = await sdk.messages.create({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 40, service_tier: 'auto', messages: history }).withResponse();
    const sent = claude.requests.at(-1)!.body!;
    assert.deepEqual(sent, { model: 'claude-sonnet-4-5', max_tokens: 40, service_tier: 'auto', messages: history });
    // The upstream's own reply: fields the internal reply has no place for (stop_sequence, cache token counts) are there.
    assert.equal(data.stop_sequence, null);
    assert.equal(data.usage.cache_creation_input_tokens, 0);
    assert.equal(response.headers.get('x-switchyard-warnings'), null);

    const translated = await sdk.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 40, service_tier: 'auto', messages: history }).withResponse();
    assert.equal(oa.requests.at(-1)!.body!.service_tier, undefined);
    assert.match(translated.response.headers.get('x-switchyard-warnings') ?? '', /service_tier.*not sent/);
    assert.match(translated.response.headers.get('x-switchyard-warnings') ?? '', /thinking blocks/);
  });

  it('Anthropic → OpenAI: a tool-use round trip', async () => {
    const tools = [{ name: 'weather', description: 'get weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];
    const first = await sdk.messages.create({
      model: 'openai/gpt-4o-mini', max_tokens: 200, tools, tool_choice: { type: 'tool', name: 'weather' },
      messages: [{ role: 'user', content: 'weather in Oslo?' }],
    });
    assert.equal(first.stop_reason, 'tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    assert.ok(use && use.type === 'tool_use');
    assert.equal(use.name, 'weather');
    assert.equal(typeof use.input, 'object');
    const call = oa.requests.at(-1)!.body!;
    assert.deepEqual(call.tool_choice, { type: 'function', function: { name: 'weather' } });
    assert.deepEqual((call.tools as any[])[0], { type: 'function', function: { name: 'weather', description: 'get weather', parameters: tools[0].input_schema } });

    const second = await sdk.messages.create({
      model: 'openai/gpt-4o-mini', max_tokens: 200, tools,
      messages: [
        { role: 'user', content: 'weather in Oslo?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny, 21C' }, { type: 'text', text: 'summarise it' }] },
      ],
    });
    assert.equal(second.stop_reason, 'end_turn');
    const sent = oa.requests.at(-1)!.body!.messages as any[];
    assert.deepEqual(sent.map((m) => m.role), ['user', 'assistant', 'tool', 'user']);
    assert.equal(sent[1].tool_calls[0].id, use.id);
    assert.deepEqual(sent[2], { role: 'tool', tool_call_id: use.id, content: 'sunny, 21C' });
  });

  it('Anthropic → Azure: translated, streaming with the SDK helper', async () => {
    const stream = sdk.messages.stream({ model: 'azure/gpt-4o-mini', max_tokens: 200, messages: [{ role: 'user', content: 'stream from azure' }] });
    let text = '';
    stream.on('text', (t) => { text += t; });
    const final = await stream.finalMessage();
    assert.match(text, /^\[az\] .*stream from azure/);
    assert.equal(final.content[0].type === 'text' ? final.content[0].text : '', text);
    assert.equal(final.stop_reason, 'end_turn');
    assert.ok(final.usage.output_tokens > 0, 'usage reaches message_delta');
    assert.equal(az.requests.at(-1)!.path.includes('/deployments/prod-mini/'), true);
  });

  it('streams the real event sequence from an Anthropic upstream, tool input as input_json_delta', async () => {
    const stream = sdk.messages.stream({
      model: 'anthropic/claude-sonnet-4-5', max_tokens: 100, tools: [{ name: 'lookup', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' }, messages: [{ role: 'user', content: 'look it up' }],
    });
    const kinds: string[] = [];
    let json = '';
    stream.on('streamEvent', (ev) => {
      kinds.push(ev.type === 'content_block_delta' ? `delta:${ev.delta.type}` : ev.type);
    });
    stream.on('inputJson', (partial) => { json += partial; });
    const final = await stream.finalMessage();
    assert.deepEqual(kinds.filter((k, i) => k !== kinds[i - 1]),
      ['message_start', 'content_block_start', 'delta:input_json_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    assert.equal(json, '{}');
    assert.equal(final.stop_reason, 'tool_use');
    assert.equal(final.content[0].type, 'tool_use');
  });

  it('an Anthropic upstream\'s stream reaches the caller byte for byte; a translated one is re-encoded', async () => {
    const events = async (model: string) => {
      const r = await post(gw, '/v1/messages', { model, max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'pass me through' }] }, { authorization: `Bearer ${KEY}` });
      assert.equal(r.status, 200);
      return r.text.split('\n\n').filter(Boolean).map((e) => {
        const [name, data] = e.split('\n');
        return { name: name.slice('event: '.length), data: JSON.parse(data.slice('data: '.length)) };
      });
    };
    const native = await events('anthropic/claude-sonnet-4-5');
    // The simulator sends ping after the first content_block_start and cache token counts in message_start; the gateway's
    // own encoder would do neither.
    assert.deepEqual(native.slice(0, 3).map((e) => e.name), ['message_start', 'content_block_start', 'ping']);
    assert.equal(native[0].data.message.usage.cache_creation_input_tokens, 0);
    assert.equal(native.at(-1)!.name, 'message_stop');
    assert.equal(native.filter((e) => e.name === 'message_stop').length, 1);
    const translated = await events('openai/gpt-4o-mini');
    assert.deepEqual(translated.slice(0, 3).map((e) => e.name), ['message_start', 'ping', 'content_block_start']);
    assert.equal(translated.at(-1)!.name, 'message_stop');
    assert.ok(translated.find((e) => e.name === 'message_delta')!.data.usage.output_tokens > 0);
  });

  it('usage and cost settle as on every door, streams and the native route included', async () => {
    const billed = new Anthropic({ apiKey: BILLED, baseURL: gw.url, maxRetries: 0 });
    const ask = { max_tokens: 30, messages: [{ role: 'user' as const, content: 'bill me please' }] };
    const used: number[] = [];
    used.push(...Object.values((await billed.messages.create({ ...ask, model: 'anthropic/claude-sonnet-4-5' })).usage).filter((v): v is number => typeof v === 'number'));
    used.push(...Object.values((await billed.messages.stream({ ...ask, model: 'anthropic/claude-sonnet-4-5' }).finalMessage()).usage).filter((v): v is number => typeof v === 'number'));
    used.push(...Object.values((await billed.messages.stream({ ...ask, model: 'openai/gpt-4o-mini' }).finalMessage()).usage).filter((v): v is number => typeof v === 'number'));
    const report = await (await fetch(`${gw.url}/admin/keys/billed/usage`, { headers: { 'x-admin-key': ADMIN } })).json() as any;
    const tokens = used.reduce((a, b) => a + b, 0);
    assert.ok(tokens > 0);
    assert.equal(Math.round(report.budget.used_usd * 1e6), Math.round(tokens * 0.001 * 1e6), 'billed exactly the usage the caller was told');
  });

  it('count_tokens answers without an upstream call', async () => {
    const before = claude.requests.length;
    const counted = await sdk.messages.countTokens({ model: 'anthropic/claude-sonnet-4-5', system: 'Be brief.', messages: [{ role: 'user', content: 'how many tokens is this sentence?' }] });
    assert.ok(counted.input_tokens > 5 && counted.input_tokens < 40, String(counted.input_tokens));
    assert.equal(claude.requests.length, before);
  });

  it('rules see the inbound protocol', async () => {
    const msg = await sdk.messages.create({ model: 'door', max_tokens: 50, messages: [{ role: 'user', content: 'which door' }] });
    assert.match(msg.content[0].type === 'text' ? msg.content[0].text : '', /^\[oa\]/);
    const chat = await client(gw, KEY).chat.completions.create({ model: 'door', messages: [{ role: 'user', content: 'which door' }] });
    assert.match(chat.choices[0].message.content ?? '', /^\[az\]/);
  });

  it('a reply cached from the OpenAI door is served to the Messages door in its format', async () => {
    const body = { model: 'openai/gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user' as const, content: 'cache me across doors' }] };
    const first = await client(gw, KEY).chat.completions.create(body).withResponse();
    assert.equal(first.response.headers.get('x-switchyard-cache'), 'miss');
    const calls = oa.requests.length;
    const { data, response } = await sdk.messages.create(body).withResponse();
    assert.equal(response.headers.get('x-switchyard-cache'), 'hit-exact');
    assert.equal(oa.requests.length, calls);
    assert.equal(data.content[0].type === 'text' ? data.content[0].text : '', first.data.choices[0].message.content);
    // Streamed from the same entry: the replayed parts become Anthropic's event sequence.
    const stream = sdk.messages.stream(body);
    const final = await stream.finalMessage();
    assert.equal((await stream.withResponse()).response.headers.get('x-switchyard-cache'), 'hit-exact');
    assert.equal(final.content[0].type === 'text' ? final.content[0].text : '', first.data.choices[0].message.content);
    assert.equal(oa.requests.length, calls);
  });

  it('errors arrive as the SDK\'s typed errors in Anthropic\'s envelope', async () => {
    const bad = new Anthropic({ apiKey: 'sk-wrong', baseURL: gw.url, maxRetries: 0 });
    await assert.rejects(bad.messages.create({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.AuthenticationError);
      assert.equal(err.status, 401);
      assert.equal((err.error as any).type, 'error');
      assert.equal((err.error as any).error.type, 'authentication_error');
      return true;
    });
    await assert.rejects(sdk.messages.create({ model: 'nope/none', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.NotFoundError);
      assert.equal((err.error as any).error.type, 'not_found_error');
      return true;
    });
    const missing = await post(gw, '/v1/messages', { model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] }, { authorization: '', 'x-api-key': KEY });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.json, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' }, request_id: missing.headers.get('request-id') });
    const badBlock = await post(gw, '/v1/messages', { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'video' }] }] }, { authorization: `Bearer ${KEY}` });
    assert.equal(badBlock.status, 400);
    assert.match(badBlock.json.error.message, /^messages\.0\.content\.0\.type: /);
  });

  it('refusals before parsing (body, content type, limits) use Anthropic\'s envelope too', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const cases: Array<[string | object, Record<string, string>, number, string]> = [
      ['{not json', auth, 400, 'invalid_request_error'],
      [[1, 2], auth, 400, 'invalid_request_error'],
      ['hello', { ...auth, 'content-type': 'text/plain' }, 400, 'invalid_request_error'],
      [{ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }] }, auth, 413, 'request_too_large'],
      [{ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }, { authorization: '' }, 401, 'authentication_error'],
    ];
    const unknown = await fetch(`${gw.url}/v1/messages/batches`, { headers: auth });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as any).error.type, 'not_found_error');
    for (const [body, headers, status, type] of cases) {
      const r = await post(gw, '/v1/messages', body, headers);
      assert.equal(r.status, status, r.text.slice(0, 200));
      assert.equal(r.json?.type, 'error', r.text.slice(0, 200));
      assert.equal(r.json.error.type, type);
      assert.equal(typeof r.json.error.message, 'string');
    }
  });

  it('a compressed body (the express route) is served by the same door: a Message, or a refusal in Anthropic\'s envelope', async () => {
    const send = (body: object) => fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(body)),
    });
    const ok = await send({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'compressed hello' }] });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as any).type, 'message');
    assert.ok(ok.headers.get('request-id'));
    assert.equal(ok.headers.get('request-id'), ok.headers.get('x-request-id'));
    const refused = await send({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(refused.status, 400);
    assert.deepEqual(await refused.json(), { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' }, request_id: refused.headers.get('request-id') });
  });

  it('a stream that breaks after its start ends with an error event, which the SDK raises', async () => {
    claude.inject({ errorEvent: true, afterChunks: 5 });
    const stream = sdk.messages.stream({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'a long answer that breaks' }] });
    let text = '';
    stream.on('text', (t) => { text += t; });
    await assert.rejects(stream.finalMessage(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.match(String((err as Error).message), /Overloaded/);
      return true;
    });
    assert.ok(text.length > 0, 'the error came after the stream started');
  });

  it('Bearer auth with the virtual key works as the SDK\'s authToken', async () => {
    const bearer = new Anthropic({ authToken: KEY, apiKey: null, baseURL: gw.url, maxRetries: 0 });
    const msg = await bearer.messages.create({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'bearer' }] });
    assert.equal(msg.type, 'message');
  });

  it('an upstream rate limit is a RateLimitError; an exhausted chain is 529 overloaded_error', async () => {
    claude.inject({ status: 429, headers: { 'retry-after': '7' } });
    const ask = () => sdk.messages.create({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    await assert.rejects(ask(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.RateLimitError);
      assert.equal((err.error as any).error.type, 'rate_limit_error');
      return true;
    });
    // The only key now cools down for the 7 s the upstream asked for: no healthy upstream is Anthropic's overloaded.
    await assert.rejects(ask(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal(err.status, 529);
      assert.equal((err.error as any).error.type, 'overloaded_error');
      return true;
    });
  });
});
