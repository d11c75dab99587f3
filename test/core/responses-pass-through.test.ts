/**
 * Responses → Responses pass-through, through the official openai client: a caller's /v1/responses request routed to an
 * upstream that speaks the Responses API (`responses: true`, the simulator) reaches it as written — unknown fields and
 * built-in tools included, with the gateway's state rules (store: false upstream, previous_response_id expanded from the
 * caller's own key's store) — and the upstream's reply bytes and events reach the client unchanged, while usage, cost, the
 * cache and fallbacks work as on every route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { closeAll, gateway, provider, sims } from '../helpers/gateway.js';

const ADMIN = 'admin-key-for-tests-0123456789';
const KEYS = { a: 'sk-sy-pass-a-000000000000001', b: 'sk-sy-pass-b-000000000000002' };
const WEB_SEARCH = { type: 'web_search' as const };

describe('Responses requests passed through to a Responses upstream', () => {
  let up: Simulator;
  let chat: Simulator;
  let gw: Gateway;
  let ai: OpenAI;
  let other: OpenAI;

  const spentByA = async (): Promise<number> =>
    ((await (await fetch(`${gw.url}/admin/keys/ka/usage`, { headers: { 'x-admin-key': ADMIN } })).json()) as any).budget.used_usd as number;

  before(async () => {
    [up, chat] = await sims({ protocol: 'openai', name: 'up' }, { protocol: 'openai', name: 'chat' });
    gw = await gateway({
      cache: { enabled: true, semantic: false },
      providers: { up: provider(up, ['gpt-5'], [{ id: 'k1' }], { responses: true }), chat: provider(chat, ['gpt-4o-mini']) },
      routing: { fallbacks: { 'up/gpt-5': ['chat/gpt-4o-mini'] } },
      server: { admin_key: ADMIN },
      governance: {
        pricing: { 'up/gpt-5': { input: 1000, output: 1000 } },
        keys: [{ id: 'ka', name: 'A', key: KEYS.a, budget: { limit_usd: 100, period: 'total' } }, { id: 'kb', name: 'B', key: KEYS.b }],
      },
    });
    const opts = { baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 20_000 };
    ai = new OpenAI({ apiKey: KEYS.a, ...opts });
    other = new OpenAI({ apiKey: KEYS.b, ...opts });
  });
  after(() => closeAll(gw, [up, chat]));

  it('sends unknown fields and built-in tools unchanged, and returns the upstream reply byte for byte with usage settled', async () => {
    const before = await spentByA();
    const body = {
      model: 'gpt-5', input: 'search the news', tools: [WEB_SEARCH], include: ['reasoning.encrypted_content'],
      reasoning: { effort: 'low', summary: 'auto' }, text: { verbosity: 'low' }, frobnicate_v2: { level: 3 },
    };
    const res = await ai.responses.create(body as any).asResponse();
    const text = await res.text();
    const call = up.requests.at(-1)!;
    assert.equal(call.path, '/v1/responses');
    const { store, ...sent } = call.body!;
    assert.equal(store, false, 'the upstream never stores: the gateway keeps the state');
    assert.deepEqual(sent, body, 'the caller\'s body as written, model included (the routed model is the same name)');
    assert.equal(text, call.sent, 'the client gets the upstream\'s bytes');
    assert.equal(res.headers.get('x-switchyard-provider'), 'up');
    assert.equal(res.headers.get('x-switchyard-warnings'), null);
    const reply = JSON.parse(text);
    assert.deepEqual(reply.output.map((i: any) => i.type), ['web_search_call', 'message']);
    const tokens = reply.usage.input_tokens + reply.usage.output_tokens;
    assert.ok(tokens > 0);
    assert.equal(Math.round((await spentByA() - before) * 1e6), tokens * 1000, 'USD 0.001 a token, from the upstream\'s usage');
  });

  it('streams the upstream\'s events byte for byte, built-in tool events included, and the SDK reads them', async () => {
    const before = await spentByA();
    const res = await ai.responses.create({ model: 'gpt-5', input: 'stream the news', tools: [WEB_SEARCH], stream: true }).asResponse();
    const text = await res.text();
    const call = up.requests.at(-1)!;
    assert.equal(call.body!.stream, true);
    assert.deepEqual(call.body!.tools, [WEB_SEARCH]);
    assert.equal(text, call.sent);
    assert.match(text, /event: response\.web_search_call\.searching/);
    const completed = JSON.parse(text.split('event: response.completed\ndata: ')[1]!.split('\n')[0]!);
    const usage = completed.response.usage;
    assert.equal(Math.round((await spentByA() - before) * 1e6), (usage.input_tokens + usage.output_tokens) * 1000);

    const stream = ai.responses.stream({ model: 'gpt-5', input: 'stream the weather', tools: [WEB_SEARCH] });
    const types: string[] = [];
    let deltas = '';
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') deltas += ev.delta;
    }
    const final = await stream.finalResponse();
    assert.ok(types.includes('response.web_search_call.completed'));
    assert.equal(final.output[0]!.type, 'web_search_call');
    assert.match(final.output_text, /^\[up\] stream the weather/);
    assert.equal(deltas, final.output_text);
    assert.equal(final.id, JSON.parse(up.requests.at(-1)!.sent.split('event: response.created\ndata: ')[1]!.split('\n')[0]!).response.id);
  });

  it('continues a conversation from the gateway\'s store, for the key that created it only', async () => {
    const first = await ai.responses.create({ model: 'gpt-5', input: 'first turn', tools: [WEB_SEARCH] });
    assert.equal((await ai.responses.retrieve(first.id)).id, first.id, 'stored under the upstream\'s id');
    await assert.rejects(other.responses.retrieve(first.id), (e: any) => e.status === 404);
    await assert.rejects(
      other.responses.create({ model: 'gpt-5', previous_response_id: first.id, input: 'not yours' }),
      (e: any) => e.status === 400 && e.code === 'previous_response_not_found',
    );
    const stream = ai.responses.stream({ model: 'gpt-5', previous_response_id: first.id, input: 'second turn', tools: [WEB_SEARCH] });
    for await (const _ of stream) { /* drain */ }
    const second = await stream.finalResponse();
    assert.match(second.output_text, /^\[up\] second turn/);
    const sent = up.requests.at(-1)!.body!;
    assert.equal(sent.previous_response_id, undefined);
    assert.equal(sent.store, false);
    const input = sent.input as any[];
    assert.deepEqual(input.slice(0, 1), [{ type: 'message', role: 'user', content: 'first turn' }]);
    assert.deepEqual(input.slice(1, 3), first.output as unknown[], 'the first reply\'s items as the upstream gave them');
    assert.deepEqual(input.slice(3), [{ type: 'message', role: 'user', content: 'second turn' }]);
    // The streamed reply was stored before response.completed reached the client.
    assert.equal((await ai.responses.retrieve(second.id)).output_text, second.output_text);
  });

  it('sends input items only the Responses API knows, even when the internal request can carry none of them', async () => {
    const input = [{ type: 'computer_call_output', call_id: 'cu_1', output: { type: 'computer_screenshot', image_url: 'data:image/png;base64,AAAA' } }];
    const r = await ai.responses.create({ model: 'gpt-5', input } as any);
    assert.equal(r.status, 'completed');
    assert.deepEqual(up.requests.at(-1)!.body!.input, input);
    await assert.rejects(
      ai.responses.create({ model: 'gpt-4o-mini', input } as any),
      (e: any) => e.status === 400 && e.param === 'input[0].type' && /needs an upstream that speaks the Responses API/.test(e.message),
    );
  });

  it('serves a repeated request from the cache, in the gateway\'s own Response', async () => {
    const body = { model: 'gpt-5', input: 'cache me', tools: [WEB_SEARCH], frobnicate_v2: 1 };
    const first = await ai.responses.create(body as any);
    const calls = up.requestCount();
    const { data, response } = await ai.responses.create(body as any).withResponse();
    assert.equal(response.headers.get('x-switchyard-cache'), 'hit-exact');
    assert.equal(up.requestCount(), calls);
    assert.equal(data.output_text, first.output_text);
    const changed = await ai.responses.create({ ...body, frobnicate_v2: 2 } as any).withResponse();
    assert.notEqual(changed.response.headers.get('x-switchyard-cache'), 'hit-exact', 'a field only the native request carries keys the cache');
  });

  it('falls back to a chat upstream on a 5xx before the first byte, translated; what only Responses has is then a 400', async () => {
    up.inject({ status: 500 });
    const { data, response } = await ai.responses.create({ model: 'up/gpt-5', input: 'fall back please' }).withResponse();
    assert.equal(response.headers.get('x-switchyard-provider'), 'chat');
    assert.match(data.id, /^resp_[0-9a-f]{48}$/, 'the gateway\'s own Response');
    assert.match(data.output_text, /^\[chat\] fall back please/);
    assert.equal(chat.requests.at(-1)!.path, '/v1/chat/completions');

    up.inject({ status: 500 });
    const stream = ai.responses.stream({ model: 'up/gpt-5', input: 'fall back streaming' });
    for await (const _ of stream) { /* drain */ }
    assert.match((await stream.finalResponse()).output_text, /^\[chat\] fall back streaming/);

    up.inject({ status: 500 });
    const chatCalls = chat.requestCount();
    await assert.rejects(
      ai.responses.create({ model: 'up/gpt-5', input: 'search then', tools: [WEB_SEARCH] }),
      (e: any) => e.status === 400 && e.param === 'tools[0].type' && /built-in tool 'web_search'/.test(e.message),
    );
    assert.equal(chat.requestCount(), chatCalls, 'the chat upstream is never sent a request it cannot honour');
    await assert.rejects(
      ai.responses.create({ model: 'gpt-4o-mini', input: 'x', frobnicate_v2: 1 } as any),
      (e: any) => e.status === 400 && e.param === 'frobnicate_v2' && e.code === 'unknown_parameter',
    );
  });
});

describe('Responses pass-through under a PII redaction policy', () => {
  let up: Simulator;
  let gw: Gateway;
  let ai: OpenAI;

  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    gw = await gateway({
      providers: { up: provider(up, ['gpt-5'], [{ id: 'k1' }], { responses: true }) },
      safety: { pii: { action: 'redact', types: ['email'] } },
    });
    ai = new OpenAI({ apiKey: 'sk-test', baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 20_000 });
  });
  after(() => closeAll(gw, [up]));

  it('passes a request without PII through as written', async () => {
    await ai.responses.create({ model: 'gpt-5', input: 'nothing personal', prompt_cache_key: 'k-1' });
    assert.equal(up.requests.at(-1)!.body!.prompt_cache_key, 'k-1');
  });

  it('never sends PII upstream, wherever in the body it is', async () => {
    await ai.responses.create({ model: 'gpt-5', input: 'write to bob@example.com' });
    assert.doesNotMatch(JSON.stringify(up.requests.at(-1)!.body), /bob@example\.com/, 'redacted in the translated request');

    // Only the caller's own body carries it (a field the internal request does not hold): the translated request goes.
    const { response } = await ai.responses.create({ model: 'gpt-5', input: 'cache by mail', prompt_cache_key: 'bob@example.com' }).withResponse();
    const sent = up.requests.at(-1)!.body!;
    assert.doesNotMatch(JSON.stringify(sent), /bob@example\.com/);
    assert.equal(sent.prompt_cache_key, undefined);
    assert.match(response.headers.get('x-switchyard-warnings') ?? '', /prompt_cache_key is not supported/);
    const calls = up.requestCount();
    await assert.rejects(
      ai.responses.create({ model: 'gpt-5', input: 'x', frobnicate_v2: 'bob@example.com' } as any),
      (e: any) => e.status === 400 && e.param === 'frobnicate_v2',
    );
    assert.equal(up.requestCount(), calls);
  });
});
