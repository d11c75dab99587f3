import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { routeRequest } from '../../src/rules/route.js';
import { buildVariables, renderVariablesTable, VARIABLES, type ProviderHealth } from '../../src/rules/variables.js';
import { celEnvironment } from '../../src/rules/cel.js';
import { compiled, ctxOf } from './helpers.js';

/** A provider's live health view, for inputs that do not come from a registry. */
const providerHealth = (over: Partial<ProviderHealth>): ProviderHealth => ({
  state: 'healthy', error_rate: 0, requests: 0, p50_ms: 0, p95_ms: 0, ttfb_p50_ms: 0, ttfb_p95_ms: 0, in_flight: 0, headroom: 1, available_keys: 1, keys: [], models: {}, ...over,
});

const body = {
  model: 'openai/gpt-4o',
  messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'hello' }, { type: 'image_url', image_url: { url: 'x' } }] }],
  temperature: 0.2,
  max_tokens: 100,
  stream: true,
  tools: [{ type: 'function' }, { type: 'function' }],
  user: 'u-42',
};

test('request and caller variables are read from the context', async () => {
  const ctx = ctxOf(body, { headers: { 'x-tier': 'gold' }, caller: { teamId: 't1', teamName: 'ML', customerId: 'c1' } });
  const v = await buildVariables(ctx, { providers: new Set(['openai']) });
  assert.equal(v['request_type'], 'chat_completion_stream');
  assert.equal(v['model'], 'gpt-4o');
  assert.equal(v['provider'], 'openai');
  assert.deepEqual(v['headers'], { 'x-tier': 'gold' });
  assert.deepEqual(v['params'], new Map<string, unknown>([['temperature', 0.2], ['max_tokens', 100], ['stream', true], ['tools', 2n]]));
  assert.equal(v['message_count'], 2n);
  assert.equal(v['prompt_chars'], 13n);
  assert.equal(v['user'], 'u-42');
  assert.equal(v['team_name'], 'ML');
  assert.equal(v['virtual_key_id'], '');
  assert.equal(v['budget_used'], 0);
  assert.equal(v['intent'], '');
  assert.deepEqual(v['health'], {});
  // An unknown prefix is part of the model name.
  const v2 = await buildVariables(ctxOf({ ...body, model: 'meta-llama/Llama-3' }), { providers: new Set(['openai']) }, new Set(['model', 'provider']));
  assert.deepEqual(v2, { model: 'meta-llama/Llama-3', provider: '' });
});

test('only referenced groups are loaded: no embedding, cache probe or capacity read otherwise', async () => {
  const calls: string[] = [];
  const inputs = {
    semantic: async () => (calls.push('semantic'), { intent: 'code', score: 0.9, margin: 0.3, ready: true, intents: { code: 0.9, chat: 0.6 } }),
    cacheSimilarity: async () => (calls.push('cache'), 0.97),
    capacity: async () => (calls.push('capacity'), { budget_used: 50, tokens_used: 10 }),
    health: () => (calls.push('health'), { openai: providerHealth({ state: 'open', error_rate: 0.5, p50_ms: 200, p95_ms: 900, available_keys: 0 }) }),
  };
  const ctx = ctxOf(body);
  const v = await buildVariables(ctx, inputs, new Set(['model', 'intent_score']));
  assert.deepEqual(calls, ['semantic']);
  assert.deepEqual(Object.keys(v).sort(), ['intent_score', 'model']);

  const set = compiled([
    { name: 'cheap', cel_expression: 'params.temperature < 0.5', targets: [{ provider: 'p', model: 'm' }] },
    { name: 'team-only', cel_expression: 'intent == "code"', targets: [{ provider: 'p', model: 'm' }], scope: 'team', scope_id: 't9' },
  ]);
  calls.length = 0;
  await routeRequest(set, ctx, inputs);
  assert.deepEqual(calls, [], 'a team rule that cannot apply must not trigger an embedding');
  await routeRequest(set, ctxOf(body, { caller: { teamId: 't9' } }), inputs);
  assert.deepEqual(calls, ['semantic']);

  const all = await buildVariables(ctx, inputs);
  assert.equal(all['cache_similarity'], 0.97);
  assert.equal(all['tokens_used'], 10);
  assert.equal(all['requests_used'], 0);
  assert.deepEqual(all['health'], {
    openai: { state: 'open', error_rate: 0.5, requests: 0n, p50_ms: 200, p95_ms: 900, ttfb_p50_ms: 0, ttfb_p95_ms: 0, in_flight: 0n, headroom: 1, available_keys: 0n, keys: {}, models: {} },
  });
  assert.deepEqual(all['intents'], { code: 0.9, chat: 0.6 });
});

test('semantic, health and capacity variables work in expressions', async () => {
  const set = compiled([
    { name: 'down', cel_expression: 'health["openai"].state == "open" && health.openai.available_keys == 0', targets: [{ provider: 'anthropic', model: 'c' }], priority: 1 },
    { name: 'code', cel_expression: 'intent == "code" && intent_margin > 0.2 && intents["chat"] < 0.7', targets: [{ provider: 'p', model: 'coder' }], priority: 2 },
  ]);
  const inputs = {
    semantic: async () => ({ intent: 'code', score: 0.9, margin: 0.3, ready: true, intents: { code: 0.9, chat: 0.6 } }),
    health: { openai: providerHealth({ p50_ms: 100, p95_ms: 300, available_keys: 2 }) },
  };
  assert.equal((await routeRequest(set, ctxOf(body), inputs)).decision.rule, 'code');
  const down = { ...inputs, health: { openai: { ...inputs.health.openai, state: 'open' as const, available_keys: 0 } } };
  assert.equal((await routeRequest(set, ctxOf(body), down)).decision.rule, 'down');
});

test('a rejected intent reads "none", as the reply header says', async () => {
  const inputs = { semantic: async () => ({ intent: 'none', score: 0.2, margin: 0.01, ready: true, intents: { code: 0.2 } }) };
  const v = await buildVariables(ctxOf(body), inputs, new Set(['intent']));
  assert.equal(v['intent'], 'none');
});

test('leading health signals, per provider and per key, read in expressions', async () => {
  const set = compiled([
    { name: 'leading', cel_expression: 'health["ph"].error_rate > 0.2 || health["ph"].ttfb_p95_ms > 2000', targets: [{ provider: 'b', model: 'm' }], priority: 1 },
    { name: 'key', cel_expression: 'health.ph.keys["k2"].breaker == "open" && health.ph.in_flight < 10 && health.ph.headroom >= 0.5', targets: [{ provider: 'c', model: 'm' }], priority: 2 },
  ]);
  const key = (id: string, over: Partial<ProviderHealth['keys'][number]>): ProviderHealth['keys'][number] => ({
    id, state: 'healthy', breaker: 'closed', error_rate: 0, requests: 0, ewma_ms: 0, p50_ms: 0, p95_ms: 0, ttfb_p50_ms: 0, ttfb_p95_ms: 0,
    in_flight: 0, remaining_requests: null, headroom: 1, models: {}, ...over,
  });
  const route = async (ph: Partial<ProviderHealth>) => (await routeRequest(set, ctxOf(body), { health: { ph: providerHealth(ph) } })).decision.rule;
  assert.equal(await route({ error_rate: 0.25, requests: 4 }), 'leading');
  assert.equal(await route({ ttfb_p95_ms: 2500 }), 'leading');
  assert.equal(await route({ keys: [key('k1', {}), key('k2', { state: 'open', breaker: 'open' })], in_flight: 3, headroom: 0.8 }), 'key');
  assert.notEqual(await route({ error_rate: 0.1, ttfb_p95_ms: 300 }), 'leading');
});

test('every declared default has the declared CEL type (checked by the CEL environment)', () => {
  const env = celEnvironment();
  for (const v of VARIABLES) {
    const value = v.type === 'int' ? BigInt(v.default as number) : v.default;
    assert.doesNotThrow(() => env.parse(`${v.name} == ${v.name}`)({ ...Object.fromEntries(VARIABLES.map((x) => [x.name, x.type === 'int' ? 0n : x.default])), [v.name]: value }), v.name);
  }
});

test('per-model health: a model over the provider\'s keys, and one key\'s lane, read in expressions', async () => {
  const set = compiled([
    { name: 'model-down', cel_expression: 'health.ph.models["a"].state == "open" && health.ph.models["a"].available_keys == 0', targets: [{ provider: 'b', model: 'm' }], priority: 1 },
    { name: 'lane', cel_expression: 'health.ph.keys["k1"].models["b"].available == true', targets: [{ provider: 'c', model: 'm' }], priority: 2 },
  ]);
  const lane = (over: Partial<ProviderHealth['keys'][number]['models'][string]>): ProviderHealth['keys'][number]['models'][string] => ({
    state: 'healthy', breaker: 'closed', available: true, error_rate: 0, requests: 0, ewma_ms: 0, p50_ms: 0, p95_ms: 0, ttfb_p50_ms: 0, ttfb_p95_ms: 0,
    in_flight: 0, remaining_requests: null, headroom: 1, ...over,
  });
  const k1: ProviderHealth['keys'][number] = {
    id: 'k1', state: 'degraded', breaker: 'closed', error_rate: 0.5, requests: 4, ewma_ms: 0, p50_ms: 0, p95_ms: 0, ttfb_p50_ms: 0, ttfb_p95_ms: 0,
    in_flight: 0, remaining_requests: null, headroom: 1, models: { a: lane({ state: 'open', breaker: 'open', available: false }), b: lane({}) },
  };
  const route = async (ph: Partial<ProviderHealth>) => (await routeRequest(set, ctxOf(body), { health: { ph: providerHealth(ph) } })).decision.rule;
  const model = (state: 'open' | 'healthy', available: number) => ({ state, available_keys: available, error_rate: 0, requests: 0, headroom: 1 });
  assert.equal(await route({ state: 'degraded', keys: [k1], models: { a: model('open', 0), b: model('healthy', 1) } }), 'model-down');
  assert.equal(await route({ keys: [k1], models: { a: model('healthy', 1), b: model('healthy', 1) } }), 'lane');
});

test('the health variable converts only what a rule reads: other providers, and the keys and models not read, are left alone', async () => {
  const set = compiled([{ name: 'down', cel_expression: 'health.ph.state == "open"', targets: [{ provider: 'b', model: 'm' }], priority: 1 }]);
  const read: string[] = [];
  /** A provider view that records which of its parts were read. */
  const watched = (name: string, over: Partial<ProviderHealth>): ProviderHealth => {
    const view = providerHealth(over);
    return new Proxy(view, { get: (t, prop, r) => (typeof prop === 'string' && ['keys', 'models'].includes(prop) && read.push(`${name}.${prop}`), Reflect.get(t, prop, r)) });
  };
  const health = (): Record<string, ProviderHealth> => {
    const out: Record<string, ProviderHealth> = { ph: watched('ph', { state: 'open' }) };
    Object.defineProperty(out, 'other', { enumerable: true, get: () => (read.push('other'), watched('other', {})) });
    return out;
  };
  const res = await routeRequest(set, ctxOf(body), { health });
  assert.equal(res.decision.rule, 'down');
  assert.deepEqual(read, [], 'neither another provider nor the keys and models of the one read are converted');
});

test('the registry\'s view for rules computes a provider when it is read', async () => {
  const { HealthRegistry } = await import('../../src/providers/health-registry.js');
  const HEALTH = { ewma_alpha: 0.2, window_ms: 60_000, degraded_error_rate: 0.5 };
  const CIRCUIT = { consecutive_failures: 2, error_rate: 0.5, min_requests: 100, cooldown_ms: 60_000, half_open_probes: 1 };
  const registry = new HealthRegistry(HEALTH, CIRCUIT);
  const layout = { keys: ['k1'], models: new Set(['a']), passThrough: false };
  registry.sync({ p: layout, q: layout }, HEALTH, CIRCUIT);
  const computed: string[] = [];
  const provider = registry.provider.bind(registry);
  registry.provider = (name, now) => (computed.push(name), provider(name, now));
  const view = registry.lazySnapshot();
  assert.deepEqual(Object.keys(view), ['p', 'q']);
  assert.deepEqual(computed, []);
  assert.equal(view['p']!.state, 'healthy');
  assert.equal(view['p']!.available_keys, 1);
  assert.deepEqual(computed, ['p'], 'q is not computed, p once');
  assert.deepEqual(view, registry.snapshot());
});

test('the docs table lists every variable and docs/rules.md embeds the current table', async () => {
  const table = renderVariablesTable();
  for (const v of VARIABLES) assert.ok(table.includes(`| \`${v.name}\` | \`${v.type}\``), v.name);
  const doc = await readFile(new URL('../../docs/rules.md', import.meta.url), 'utf8');
  assert.ok(doc.includes(table), 'docs/rules.md is out of date: run `node --import tsx src/rules/render-docs.ts`');
});

test('cheap rules ahead of an expensive one decide without loading it; errors are counted once', async () => {
  const { evaluate, seededRandom } = await import('../../src/rules/engine.js');
  const set = compiled([
    { name: 'embed', cel_expression: 'request_type == "embedding"', targets: [{ provider: 'tei', model: 'bge' }], priority: 1 },
    { name: 'tier', cel_expression: 'headers["x-tier"] == "gold"', targets: [{ provider: 'gold', model: 'm' }], priority: 2 },
    { name: 'code', cel_expression: 'intent == "code"', targets: [{ provider: 'coder', model: 'm' }], priority: 3 },
    { name: 'rest', cel_expression: 'message_count > 0', targets: [{ provider: 'a', model: 'm', weight: 0.5 }, { provider: 'b', model: 'm', weight: 0.5 }], priority: 4 },
  ]);
  let semanticCalls = 0;
  const inputs = { semantic: async () => (semanticCalls++, { intent: 'code', score: 0.9, margin: 0.2, ready: true }) };
  const errors: string[] = [];
  const onError = (r: { name: string }) => errors.push(r.name);

  const emb = await routeRequest(set, ctxOf({ model: 'e', input: 'x' }, { requestType: 'embedding' }), inputs, { onError });
  assert.equal(emb.decision.rule, 'embed');
  assert.equal(semanticCalls, 0);
  assert.deepEqual(errors, []);

  const chat = await routeRequest(set, ctxOf(body), inputs, { onError });
  assert.equal(chat.decision.rule, 'code');
  assert.equal(semanticCalls, 1);
  assert.deepEqual(errors, ['tier'], 'the missing header fails once, not once per pass');

  // Same decisions as evaluating with every variable loaded, over many requests and seeds.
  for (let seed = 0; seed < 40; seed++) {
    const headers: Record<string, string> = seed % 3 === 0 ? { 'x-tier': 'gold' } : {};
    const intent = seed % 2 === 0 ? 'code' : 'chat';
    const ctx = ctxOf(seed % 5 === 0 ? { model: 'e', input: 'x' } : body, { headers, requestType: seed % 5 === 0 ? 'embedding' : 'chat_completion' });
    const inp = { semantic: async () => ({ intent, score: 0.8, margin: 0.1, ready: true }) };
    const lazy = await routeRequest(set, ctx, inp, { rng: seededRandom(seed) });
    const full = evaluate(set, await buildVariables(ctx, inp), ctx.caller, { rng: seededRandom(seed) });
    assert.deepEqual(lazy.decision, full, `seed ${seed}`);
  }
});

test('a provider, key, model or category named constructor does not stop rules reading health, intents and intent_metadata', async () => {
  const lane: ProviderHealth['keys'][number]['models'][string] = {
    state: 'open', breaker: 'open', available: false, error_rate: 1, requests: 3, ewma_ms: 0, p50_ms: 0, p95_ms: 0, ttfb_p50_ms: 0, ttfb_p95_ms: 0,
    in_flight: 0, remaining_requests: null, headroom: 0,
  };
  const key: ProviderHealth['keys'][number] = {
    id: 'constructor', state: 'degraded', breaker: 'closed', error_rate: 0.5, requests: 4, ewma_ms: 0, p50_ms: 0, p95_ms: 0, ttfb_p50_ms: 0,
    ttfb_p95_ms: 0, in_flight: 0, remaining_requests: null, headroom: 1, models: Object.fromEntries([['constructor', lane]]),
  };
  const models = Object.fromEntries([['constructor', { state: 'open' as const, available_keys: 0, error_rate: 1, requests: 3, headroom: 0 }]]);
  // Built from entries, as a config's names arrive: an own member, not the prototype's.
  const health = Object.fromEntries([['constructor', providerHealth({ state: 'open', keys: [key], models })], ['openai', providerHealth({})]]);
  const semantic = async () => ({
    intent: 'constructor', score: 0.9, margin: 0.3, ready: true,
    intents: Object.fromEntries([['constructor', 0.9], ['chat', 0.6]]),
    metadata: Object.fromEntries([['constructor', { tier: 'x' }], ['team', 'core']]),
  });
  const holds = async (expr: string): Promise<boolean> => {
    const set = compiled([{ name: 'r', cel_expression: expr, targets: [{ provider: 'openai', model: 'm' }] }]);
    return (await routeRequest(set, ctxOf(body), { health, semantic })).decision.matched;
  };
  for (const expr of [
    'health.openai.state == "healthy"', 'health.constructor.state == "open"', 'size(health) == 2',
    'health.constructor.keys.constructor.state == "degraded"', 'health.constructor.keys["constructor"].models.constructor.breaker == "open"',
    'health.constructor.models.constructor.available_keys == 0',
    'intents.chat > 0.5', 'intents.constructor > 0.8', 'intent_metadata.team == "core"', 'intent_metadata.constructor.tier == "x"',
  ]) assert.equal(await holds(expr), true, expr);
  assert.equal(await holds('health.openai.state == "open"'), false);
});
