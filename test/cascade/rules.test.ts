import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cascadePlan } from '../../src/cascade/plan.js';
import { cascadeRoute } from '../../src/cascade/route.js';
import { ANONYMOUS, type RequestContext } from '../../src/pipeline/context.js';
import type { ModelTable } from '../../src/pipeline/resolve-target.js';
import { compile } from '../../src/rules/compile.js';
import { parseRule, parseRules, ruleSchema } from '../../src/rules/config.js';
import { evaluate, toRouteDecision } from '../../src/rules/engine.js';

const tiers = [
  { provider: 'cheap', model: 'small', checks: { refusal: true } },
  { provider: 'strong', model: 'big' },
];
const base = { name: 'c', cel_expression: 'true' };
const problems = (input: unknown): string[] => {
  const r = parseRule(input);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('cascade rules', () => {
  it('a rule takes targets or a cascade; the cascade fills its target with the first tier', () => {
    const r = ruleSchema.parse({ ...base, cascade: tiers });
    assert.deepEqual(r.targets, [{ provider: 'cheap', model: 'small' }]);
    assert.equal(r.cascade!.length, 2);
    assert.deepEqual(ruleSchema.parse(JSON.parse(JSON.stringify(r))), r, 'a listed rule round-trips');
    assert.match(problems({ ...base }).join(), /targets: a rule needs targets or a cascade/);
    assert.match(problems({ ...base, cascade: tiers, targets: [{ provider: 'x', model: 'y' }] }).join(), /not both/);
    assert.match(problems({ ...base, cascade: tiers, fallbacks: ['x/y'] }).join(), /fallbacks/);
    assert.match(problems({ ...base, targets: [{ provider: 'x', model: 'y' }], cascade_streaming: 'buffer' }).join(), /cascade_streaming/);
  });

  it('validates tiers with config paths', () => {
    assert.match(problems({ ...base, cascade: [tiers[0]] }).join(), /cascade: a cascade needs at least 2 tiers/);
    assert.match(problems({ ...base, cascade: [{ provider: 'cheap', model: 'small' }, tiers[1]] }).join(), /cascade\[0\]\.checks: every tier but the last needs at least one check/);
    assert.match(problems({ ...base, cascade: [tiers[0], tiers[0]] }).join(), /cascade\[1\]: tier cheap\/small appears twice/);
    assert.match(problems({ ...base, cascade: [{ ...tiers[0], checks: { must_match: ['(x'] } }, tiers[1]] }).join(), /cascade\[0\]\.checks\.must_match\[0\]: invalid regular expression/);
    const list = parseRules([{ ...base, cascade: [{ ...tiers[0], checks: { min_length: 0 } }, tiers[1]] }]);
    assert.ok(!list.ok && list.problems[0]!.path === 'rules[0].cascade[0].checks.min_length' && list.problems[0]!.rule === 'c');
  });

  it('compile rejects unknown providers in tiers and judges', () => {
    const spec = ruleSchema.parse({ ...base, cascade: [{ provider: 'cheap', model: 's', checks: { judge: { provider: 'nowhere', model: 'j' } } }, { provider: 'ghost', model: 'g' }] });
    const r = compile([spec], { providers: new Map([['cheap', []]]) });
    assert.ok(!r.ok);
    assert.deepEqual(r.problems.map((p) => p.path).sort(), ['rules[0].cascade[0].checks.judge.provider', 'rules[0].cascade[1].provider']);
  });

  it('the decision carries the cascade into the route', () => {
    const r = compile([ruleSchema.parse({ ...base, cascade: tiers, cascade_streaming: 'last_tier', cache: { enabled: false } })]);
    assert.ok(r.ok);
    const d = evaluate(r.ruleSet, {}, ANONYMOUS);
    assert.equal(d.cascade?.length, 2);
    assert.equal(d.cascadeStreaming, 'last_tier');
    const route = toRouteDecision(d)!;
    assert.deepEqual(route.chain, [{ provider: 'cheap', model: 'small' }, { provider: 'strong', model: 'big' }]);
    assert.equal(route.cascade, d.cascade);
    assert.deepEqual(route.cache, { enabled: false });
  });

  it('routes drop tiers that cannot serve the request; embeddings never cascade', () => {
    const table: ModelTable = {
      providers: new Map([['cheap', { supports: new Set(['chat', 'embedding'] as const) }], ['strong', { supports: new Set(['chat'] as const) }]]),
      aliases: new Map(), bareModels: new Map(), fallbacks: new Map(),
    };
    const ctx = (op: 'chat' | 'embedding'): RequestContext => ({
      id: 't', startedAt: 0, op, protocol: op === 'chat' ? 'openai.chat' : 'openai.embeddings', requestType: op === 'chat' ? 'chat_completion' : 'embedding', body: {}, model: 'x', stream: false, headers: {},
      caller: ANONYMOUS, signal: new AbortController().signal, attempts: [], warnings: [], replyHeaders: {}, facts: {},
    });
    const spec = ruleSchema.parse({ ...base, cascade: tiers });
    const chat = cascadeRoute(ctx('chat'), table, 'c', spec.cascade!, undefined);
    assert.equal(chat.cascade?.length, 2);
    const plan = cascadePlan(chat, false);
    assert.deepEqual(plan.tiers.map((t) => t.checked), [true, false]);
    const emb = cascadeRoute(ctx('embedding'), table, 'c', spec.cascade!, undefined);
    assert.equal(emb.cascade, undefined);
    assert.deepEqual(emb.chain, [{ provider: 'cheap', model: 'small' }]);
  });
});
