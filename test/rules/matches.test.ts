import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, explain, type TraceStep } from '../../src/rules/engine.js';
import { RULE_PATTERN_WORK } from '../../src/rules/cel-matches.js';
import { buildVariables } from '../../src/rules/variables.js';
import { compile } from '../../src/rules/compile.js';
import { caller, compiled, ctxOf, rule } from './helpers.js';

const T = [{ provider: 'p', model: 'm' }];
const vars = (body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Record<string, unknown>> =>
  buildVariables(ctxOf(body, { headers }), { capacity: async () => ({ budget_used: 0 }) });

test('matches reads RE2 syntax, as CEL defines it, and finds the pattern anywhere in the text', async () => {
  // `(?i)` is RE2's inline flag (an invalid group to JavaScript's engine); `\pL` is RE2's one-letter class name.
  const set = compiled([
    { name: 'ci', cel_expression: 'user.matches("(?i)^vip-")', targets: T },
    { name: 'letters', cel_expression: 'headers["x-tag"].matches("^\\\\pL+$")', targets: T },
  ]);
  assert.equal(evaluate(set, await vars({ model: 'x', user: 'VIP-42' }), caller()).rule, 'ci');
  assert.equal(evaluate(set, await vars({ model: 'x', user: 'a-vip-42' }, { 'x-tag': 'Straße' }), caller()).rule, 'letters');
  assert.equal(evaluate(set, await vars({ model: 'x', user: 'a-vip-42' }, { 'x-tag': 'x1' }), caller()).matched, false);
});

test('a literal pattern RE2 cannot run (lookaround, backreference) is refused when the rule loads, at its position', () => {
  for (const expr of ['user.matches("a(?=b)")', 'user.matches("(a)\\\\1")']) {
    const res = compile([rule({ name: 'r1', cel_expression: expr, targets: T })]);
    assert.equal(res.ok, false, expr);
    if (!res.ok) assert.match(res.problems[0]!.message, /invalid regular expression: .* \(at 1:14\)/);
  }
});

test('an operator\'s catastrophic pattern against a caller\'s value does not backtrack', async () => {
  // With a backtracking engine this search tries about 2^40 ways to split the run before failing.
  const set = compiled([{ name: 'words', cel_expression: 'headers["x-client"].matches("^(\\\\w+\\\\s?)*$")', targets: T }]);
  const hostile = `${'a'.repeat(40)}!`;
  assert.equal(evaluate(set, await vars({ model: 'x' }, { 'x-client': hostile }), caller()).matched, false);
  assert.equal(evaluate(set, await vars({ model: 'x' }, { 'x-client': 'my app 2' }), caller()).rule, 'words');
  // Inside every comprehension macro too (their bodies are evaluated through nodes of their own).
  const WORDS = '"^(\\\\w+\\\\s?)*$"';
  const inMacros = compiled([
    { name: 'all', cel_expression: `params.extra.names.all(n, n.matches(${WORDS}))`, targets: T, priority: 1 },
    { name: 'exists_one', cel_expression: `params.extra.names.exists_one(n, n.matches(${WORDS}))`, targets: T, priority: 2 },
    { name: 'filter', cel_expression: `params.extra.names.filter(n, n.matches(${WORDS})).size() > 1`, targets: T, priority: 3 },
    { name: 'map', cel_expression: `params.extra.names.map(n, n.matches(${WORDS})).exists(b, b)`, targets: T, priority: 4 },
  ]);
  const hostileNames = await vars({ model: 'x', extra: { names: [hostile, hostile] } });
  assert.equal(evaluate(inMacros, hostileNames, caller()).matched, false);
  assert.equal(evaluate(inMacros, await vars({ model: 'x', extra: { names: ['ok name', hostile] } }), caller()).rule, 'exists_one');
});

test('one evaluation of a rule searches within its budget; past it the rule errors and does not match', async () => {
  const set = compiled([
    { name: 'each', cel_expression: 'params.extra.parts.exists(p, p.matches("z$"))', targets: T, priority: 1 },
    { name: 'next', cel_expression: 'true', targets: [{ provider: 'q', model: 'm' }], priority: 2 },
  ]);
  // `z$` is a program of a few instructions: one part of 20,000 characters is well within the budget, and matches.
  const fits = await vars({ model: 'x', extra: { parts: [`${'a'.repeat(20_000)}z`] } });
  assert.equal(evaluate(set, fits, caller()).rule, 'each');
  // Fifty such parts in one evaluation are over it: the rule's searches stop, the next rule decides.
  const many = await vars({ model: 'x', extra: { parts: Array.from({ length: 50 }, () => 'a'.repeat(20_000)).concat('z') } });
  const errors: unknown[] = [];
  const d = evaluate(set, many, caller(), { onError: (_r, e) => errors.push(e) });
  assert.equal(d.rule, 'next');
  assert.equal(errors.length, 1);
  assert.match(String((errors[0] as Error).message), new RegExp(`too long to search .* budget \\(${RULE_PATTERN_WORK} units`));
  const steps: TraceStep[] = explain(set, many, caller()).steps as TraceStep[];
  assert.equal(steps.find((s) => s.rule === 'each')?.result, 'error');
  // The budget is per evaluation: the next request's rule searches afresh.
  assert.equal(evaluate(set, fits, caller()).rule, 'each');
});

test('a pattern computed at run time that RE2 cannot compile fails that evaluation only', async () => {
  const set = compiled([{ name: 'dyn', cel_expression: 'user.matches(headers["x-pattern"])', targets: T }]);
  const errors: unknown[] = [];
  assert.equal(evaluate(set, await vars({ model: 'x', user: 'ab' }, { 'x-pattern': '(a' }), caller(), { onError: (_r, e) => errors.push(e) }).matched, false);
  assert.match(String((errors[0] as Error).message), /invalid RE2 pattern/);
  assert.equal(evaluate(set, await vars({ model: 'x', user: 'ab' }, { 'x-pattern': 'b$' }), caller()).rule, 'dyn');
});
