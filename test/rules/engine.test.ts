import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RuleInput } from '../../src/rules/config.js';
import { evaluate, explain, MAX_CHAIN_STEPS, seededRandom, toRouteDecision, type TraceStep } from '../../src/rules/engine.js';
import { RuleErrorReporter } from '../../src/rules/error-reporter.js';
import { routeRequest } from '../../src/rules/route.js';
import { buildVariables } from '../../src/rules/variables.js';
import { caller, compiled, ctxOf } from './helpers.js';

const T = (provider: string, model = 'm'): { provider: string; model: string } => ({ provider, model });

async function varsFor(body: Record<string, unknown>, opts: Parameters<typeof ctxOf>[1] = {}, budget = 0): Promise<Record<string, unknown>> {
  return buildVariables(ctxOf(body, opts), { capacity: async () => ({ budget_used: budget }) });
}

test('scope precedence: virtual_key > team > customer > global, regardless of priority', async () => {
  const rules: RuleInput[] = [
    { name: 'g', cel_expression: 'true', targets: [T('global')], priority: 0 },
    { name: 'c', cel_expression: 'true', targets: [T('customer')], scope: 'customer', scope_id: 'cu1', priority: 50 },
    { name: 't', cel_expression: 'true', targets: [T('team')], scope: 'team', scope_id: 't1', priority: 99 },
    { name: 'k', cel_expression: 'true', targets: [T('key')], scope: 'virtual_key', scope_id: 'vk1', priority: 1000 },
  ];
  const set = compiled(rules);
  const vars = await varsFor({ model: 'gpt' });
  const who = (c: Parameters<typeof caller>[0]): string => evaluate(set, vars, caller(c)).target!.provider;
  assert.equal(who({ virtualKeyId: 'vk1', teamId: 't1', customerId: 'cu1' }), 'key');
  assert.equal(who({ virtualKeyId: 'vk2', teamId: 't1', customerId: 'cu1' }), 'team');
  assert.equal(who({ teamId: 't2', customerId: 'cu1' }), 'customer');
  assert.equal(who({ customerId: 'cu9' }), 'global');
  assert.equal(who({}), 'global');
});

test('priority ascending, ties by name, first true wins; no match = default', async () => {
  const set = compiled([
    { name: 'z-late', cel_expression: 'model == "a"', targets: [T('z')], priority: 5 },
    { name: 'b-tie', cel_expression: 'model == "a"', targets: [T('b')], priority: 5 },
    { name: 'a-tie', cel_expression: 'model == "b"', targets: [T('a')], priority: 5 },
    { name: 'first', cel_expression: 'model == "c"', targets: [T('f')], priority: 1 },
  ]);
  assert.equal(evaluate(set, await varsFor({ model: 'a' }), caller()).rule, 'b-tie');
  assert.equal(evaluate(set, await varsFor({ model: 'c' }), caller()).rule, 'first');
  const none = evaluate(set, await varsFor({ model: 'q' }), caller());
  assert.equal(none.matched, false);
  assert.equal(none.rule, 'default');
  assert.equal(toRouteDecision(none), undefined);
});

test('weighted split converges to the weights (5-sigma over 10k seeded draws)', async () => {
  const set = compiled([{ name: 'split', cel_expression: 'true', targets: [{ ...T('a'), weight: 0.7 }, { ...T('b'), weight: 0.2 }, { ...T('c'), weight: 0.1 }] }]);
  const vars = await varsFor({ model: 'x' });
  const rng = seededRandom(42);
  const n = 10_000;
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (let i = 0; i < n; i++) counts[evaluate(set, vars, caller(), { rng }).target!.provider]!++;
  for (const [p, w] of [['a', 0.7], ['b', 0.2], ['c', 0.1]] as const) {
    const sigma = Math.sqrt(n * w * (1 - w));
    assert.ok(Math.abs(counts[p]! - n * w) < 5 * sigma, `${p}: ${counts[p]} vs ${n * w}`);
  }
  // The pick follows the injected RNG exactly.
  assert.equal(evaluate(set, vars, caller(), { rng: () => 0.69 }).target!.provider, 'a');
  assert.equal(evaluate(set, vars, caller(), { rng: () => 0.7 }).target!.provider, 'b');
  assert.equal(evaluate(set, vars, caller(), { rng: () => 0.95 }).target!.provider, 'c');
});

test('chain_rule re-evaluates with the resolved target and records every step', async () => {
  const set = compiled([
    { name: 'alias', cel_expression: 'model == "smart"', targets: [T('openai', 'gpt-4o')], chain_rule: true, priority: 1,
      fallbacks: ['anthropic/claude'], cache: { enabled: true, ttl_s: 60 } },
    { name: 'degrade', cel_expression: 'provider == "openai" && model == "gpt-4o" && budget_used > 80', targets: [T('openai', 'gpt-4o-mini')],
      priority: 2, cache: { threshold: 0.95 } },
  ]);
  const d = evaluate(set, await varsFor({ model: 'smart' }, {}, 90), caller());
  assert.equal(d.rule, 'degrade');
  assert.deepEqual(d.target, T('openai', 'gpt-4o-mini'));
  assert.deepEqual(d.steps.map((s) => s.rule), ['alias', 'degrade']);
  assert.deepEqual(d.fallbacks, [T('anthropic', 'claude')]);
  assert.deepEqual(d.cache, { enabled: true, ttl_s: 60, threshold: 0.95 });
  assert.deepEqual(toRouteDecision(d)!.chain, [T('openai', 'gpt-4o-mini'), T('anthropic', 'claude')]);
  // Under budget: the chain re-evaluates, nothing else matches, the alias's target stands.
  const d2 = evaluate(set, await varsFor({ model: 'smart' }, {}, 10), caller());
  assert.equal(d2.rule, 'alias');
  assert.deepEqual(d2.target, T('openai', 'gpt-4o'));
  assert.equal(d2.truncated, false);
});

test('chaining: each rule at most once, and at most 10 steps', async () => {
  // A two-rule cycle a→b→a stops after each has run once.
  const cyc = compiled([
    { name: 'a', cel_expression: 'model == "x"', targets: [T('p', 'y')], chain_rule: true },
    { name: 'b', cel_expression: 'model == "y"', targets: [T('p', 'x')], chain_rule: true },
  ]);
  const d = evaluate(cyc, await varsFor({ model: 'x' }), caller());
  assert.deepEqual(d.steps.map((s) => s.rule), ['a', 'b']);
  assert.deepEqual(d.target, T('p', 'x'));
  assert.equal(d.truncated, false);
  // Twelve chaining rules m0→m1→…: the chain ends at 10 steps.
  const long = compiled(Array.from({ length: 12 }, (_, i) => ({
    name: `r${String(i).padStart(2, '0')}`, cel_expression: `model == "m${i}"`, targets: [T('p', `m${i + 1}`)], chain_rule: true,
  })));
  const dl = evaluate(long, await varsFor({ model: 'm0' }), caller());
  assert.equal(dl.steps.length, MAX_CHAIN_STEPS);
  assert.equal(dl.truncated, true);
  assert.deepEqual(dl.target, T('p', 'm10'));
  const ex = explain(long, await varsFor({ model: 'm0' }), caller());
  assert.deepEqual(ex.decision.steps, dl.steps);
  assert.equal(Math.max(...ex.steps.map((s) => s.chain_step)), MAX_CHAIN_STEPS - 1);
  assert.ok(ex.steps.some((s) => s.result === 'already_used'));
});

test('a runtime error is no match for that rule, counted and logged at most once per interval', async () => {
  const set = compiled([
    { name: 'tier', cel_expression: 'headers["x-tier"] == "premium"', targets: [T('premium')], priority: 1 },
    { name: 'fallback', cel_expression: 'true', targets: [T('basic')], priority: 2 },
  ]);
  const logs: unknown[] = [];
  const metric: string[] = [];
  let now = 0;
  const logger = { warn: (o: unknown) => logs.push(o) } as unknown as import('pino').Logger;
  const rep = new RuleErrorReporter({ logger, onError: (r) => metric.push(r), now: () => now });
  const vars = await varsFor({ model: 'x' });
  for (let i = 0; i < 3; i++) assert.equal(evaluate(set, vars, caller(), { onError: rep.report }).rule, 'fallback');
  assert.equal(rep.errorCounts().get('tier'), 3);
  assert.deepEqual(metric, ['tier', 'tier', 'tier']);
  assert.equal(logs.length, 1);
  now = 61_000;
  evaluate(set, vars, caller(), { onError: rep.report });
  assert.equal(logs.length, 2);
  assert.equal((logs[1] as { suppressed: number }).suppressed, 2);
  const ex = explain(set, vars, caller());
  assert.equal(ex.steps[0]!.result, 'error');
  assert.match(ex.steps[0]!.error!, /No such key: x-tier/);
  // With the header present the rule matches.
  assert.equal(evaluate(set, await varsFor({ model: 'x' }, { headers: { 'x-tier': 'premium' } }), caller()).rule, 'tier');
});

test('explain lists every rule in order with its result and agrees with evaluate', async () => {
  const set = compiled([
    { name: 'off', cel_expression: 'true', targets: [T('o')], enabled: false, priority: 0 },
    { name: 'other-team', cel_expression: 'true', targets: [T('t')], scope: 'team', scope_id: 'nope' },
    { name: 'miss', cel_expression: 'model == "zzz"', targets: [T('m')], priority: 1 },
    { name: 'hit', cel_expression: 'message_count >= 2', targets: [{ ...T('a'), weight: 0.5 }, { ...T('b'), weight: 0.5 }], priority: 2 },
    { name: 'after', cel_expression: 'true', targets: [T('x')], priority: 3 },
  ]);
  const vars = await varsFor({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }, { role: 'user', content: 'there' }] });
  const ex = explain(set, vars, caller({ teamId: 't1' }), { rng: seededRandom(7) });
  const brief = ex.steps.map((s: TraceStep) => `${s.rule}:${s.result}`);
  assert.deepEqual(brief, ['other-team:skipped_scope', 'off:disabled', 'miss:no_match', 'hit:match']);
  assert.equal(ex.variables['message_count'], 2);
  for (let seed = 0; seed < 50; seed++) {
    const a = evaluate(set, vars, caller({ teamId: 't1' }), { rng: seededRandom(seed) });
    const b = explain(set, vars, caller({ teamId: 't1' }), { rng: seededRandom(seed) }).decision;
    assert.deepEqual(a, b);
  }
});

test('seed example 1: budget_used > 85 routes to a cheaper provider', async () => {
  const set = compiled([{ name: 'budget-saver', cel_expression: 'budget_used > 85', targets: [T('groq', 'llama-3.1-8b')] }]);
  const ctx = ctxOf({ model: 'gpt-4o', messages: [] }, { caller: { virtualKeyId: 'k1' } });
  let capacityCalls = 0;
  const inputs = (pct: number) => ({ capacity: async () => (capacityCalls++, { budget_used: pct }) });
  assert.equal((await routeRequest(set, ctx, inputs(90))).decision.target?.provider, 'groq');
  assert.equal((await routeRequest(set, ctx, inputs(85))).decision.matched, false);
  assert.equal(capacityCalls, 2);
});

test('seed example 2: premium tier split 0.7 / 0.3 on headers["x-tier"]', async () => {
  const set = compiled([{
    name: 'premium', cel_expression: '"x-tier" in headers && headers["x-tier"] == "premium"',
    targets: [{ provider: 'openai', model: 'gpt-4o', weight: 0.7 }, { provider: 'anthropic', model: 'claude-sonnet', weight: 0.3 }],
  }]);
  const rng = seededRandom(1);
  const ctx = ctxOf({ model: 'chat' }, { headers: { 'x-tier': 'premium' } });
  let openai = 0;
  for (let i = 0; i < 10_000; i++) if ((await routeRequest(set, ctx, {}, { rng })).decision.target!.provider === 'openai') openai++;
  assert.ok(Math.abs(openai - 7000) < 5 * Math.sqrt(10_000 * 0.7 * 0.3), String(openai));
  assert.equal((await routeRequest(set, ctxOf({ model: 'chat' }), {})).decision.matched, false);
});

test('seed example 3: embeddings go to the cheap embeddings provider', async () => {
  const set = compiled([{ name: 'embed-cheap', cel_expression: 'request_type == "embedding"', targets: [T('local-tei', 'bge-small')] }]);
  const e = await routeRequest(set, ctxOf({ model: 'text-embedding-3-small', input: ['a', 'b'] }, { requestType: 'embedding' }), {});
  assert.deepEqual(e.decision.target, T('local-tei', 'bge-small'));
  assert.equal(e.variables['request_type'], 'embedding');
  assert.equal((await routeRequest(set, ctxOf({ model: 'gpt-4o', messages: [] }), {})).decision.matched, false);
});

test('seed example 4: canary 0.9 / 0.1 for one team (expression or team scope)', async () => {
  const targets = [{ provider: 'openai', model: 'gpt-4o', weight: 0.9 }, { provider: 'openai', model: 'gpt-4.1', weight: 0.1 }];
  for (const set of [
    compiled([{ name: 'canary', cel_expression: 'team_id == "team-ml"', targets }]),
    compiled([{ name: 'canary', cel_expression: 'true', targets, scope: 'team', scope_id: 'team-ml' }]),
  ]) {
    const rng = seededRandom(3);
    const ml = ctxOf({ model: 'gpt-4o' }, { caller: { teamId: 'team-ml' } });
    let canary = 0;
    for (let i = 0; i < 10_000; i++) if ((await routeRequest(set, ml, {}, { rng })).decision.target!.model === 'gpt-4.1') canary++;
    assert.ok(Math.abs(canary - 1000) < 5 * Math.sqrt(10_000 * 0.9 * 0.1), String(canary));
    assert.equal((await routeRequest(set, ctxOf({ model: 'gpt-4o' }, { caller: { teamId: 'other' } }), {})).decision.matched, false);
  }
});
