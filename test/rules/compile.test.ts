import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../src/rules/compile.js';
import { parseRules } from '../../src/rules/config.js';
import { compiled, rule } from './helpers.js';

const t1 = [{ provider: 'openai', model: 'gpt-4o-mini' }];

function problemsOf(expr: string): string {
  const res = compile([rule({ name: 'r1', cel_expression: expr, targets: t1 })]);
  assert.equal(res.ok, false, `expected '${expr}' to be rejected`);
  return res.ok ? '' : res.problems.map((p) => `${p.path} ${p.rule} ${p.message}`).join('\n');
}

test('unknown variable is rejected with rule name and position', () => {
  const msg = problemsOf('model == "x" && intent_scor > 0.5');
  assert.match(msg, /rules\[0\]\.cel_expression r1 Unknown variable: intent_scor \(at 1:17\)/);
});

test('wrong operand type is rejected', () => {
  assert.match(problemsOf('intent_score > "x"'), /no such overload: double > string \(at 1:1\)/);
  assert.match(problemsOf('headers["x-tier"] > 3'), /no such overload: string > int/);
});

test('non-bool result is rejected', () => {
  assert.match(problemsOf('model'), /must be of type bool, found string/);
  assert.match(problemsOf('params.stream'), /must be of type bool, found dyn/);
});

test('syntax error is rejected with a position on the right line', () => {
  assert.match(problemsOf('model == "a" &&\n  (budget_used > '), /\(at 2:\d+\)/);
});

test('a literal regex that cannot compile is rejected at its position, not on every request', () => {
  assert.match(problemsOf('user.matches("a(b")'), /invalid regular expression: .* \(at 1:14\)/);
  assert.match(problemsOf('model == "x" ||\n  user.matches("[")'), /invalid regular expression: .* \(at 2:16\)/);
  assert.ok(compile([rule({ name: 'r1', cel_expression: 'user.matches("^a(b|c)+$")', targets: t1 })]).ok);
});

test('nested comprehensions that would hold every request are rejected; bounded ones compile', () => {
  const list = `[${Array.from({ length: 30 }, (_, i) => i).join(', ')}]`;
  let deep = 'true';
  for (const v of ['a', 'b', 'c', 'd', 'e', 'f']) deep = `${list}.all(${v}, ${deep})`;
  assert.match(problemsOf(deep), /too expensive: .* \(at 1:\d+\)/);
  // A range a caller sizes (headers, params) nested in another is quadratic in what the caller sends.
  assert.match(problemsOf('headers.exists(a, headers.exists(b, a != b && headers[a] == headers[b]))'), /too expensive/);
  for (const ok of [`${list}.all(a, ${list}.exists(b, a <= b))`, 'headers.exists(k, k.startsWith("x-"))', '[1, 2].map(x, x * 2).size() == 2']) {
    const res = compile([rule({ name: 'r1', cel_expression: ok, targets: t1 })]);
    assert.ok(res.ok, `${ok}: ${JSON.stringify(res)}`);
  }
});

test('weights must sum to 1, be all-or-none, and scopes need ids', () => {
  const res = compile([
    rule({ name: 'a', cel_expression: 'true', targets: [{ provider: 'p', model: 'm', weight: 0.7 }, { provider: 'q', model: 'm', weight: 0.2 }] }),
    rule({ name: 'b', cel_expression: 'true', targets: [{ provider: 'p', model: 'm', weight: 1 }, { provider: 'q', model: 'm' }] }),
    rule({ name: 'c', cel_expression: 'true', targets: t1, scope: 'team' }),
    rule({ name: 'd', cel_expression: 'true', targets: t1, scope_id: 'x' }),
    rule({ name: 'a', cel_expression: 'true', targets: t1 }),
  ]);
  assert.equal(res.ok, false);
  if (res.ok) return;
  const text = res.problems.map((p) => `${p.path}: ${p.message}`);
  assert.ok(text.some((t) => /^rules\[0\]\.targets: weights must sum to 1, found 0\.9/.test(t)), text.join('\n'));
  assert.ok(text.some((t) => /^rules\[1\]\.targets: give a weight on every target or on none/.test(t)));
  assert.ok(text.some((t) => /^rules\[2\]\.scope_id: required for scope 'team'/.test(t)));
  assert.ok(text.some((t) => /^rules\[3\]\.scope_id: a global rule takes no scope_id/.test(t)));
  assert.ok(text.some((t) => /^rules\[4\]\.name: duplicate rule name \(also rules\[0\]\)/.test(t)));
});

test('weights within 1e-6 of 1 are accepted; omitted weights split equally', () => {
  const set = compiled([
    { name: 'a', cel_expression: 'true', targets: [{ provider: 'p', model: 'm', weight: 0.3333333 }, { provider: 'q', model: 'm', weight: 0.6666667 }] },
    { name: 'b', cel_expression: 'true', targets: [{ provider: 'p', model: 'm' }, { provider: 'q', model: 'm' }] },
  ]);
  assert.deepEqual([...set.byName.get('b')!.cumulative], [0.5, 1]);
});

test('unknown providers are rejected only when the known set is given', () => {
  const r = rule({ name: 'a', cel_expression: 'true', targets: [{ provider: 'nope', model: 'm' }], fallbacks: ['openai/gpt-4o', 'ghost/x'] });
  assert.equal(compile([r]).ok, true);
  const res = compile([r], { providers: new Map([['openai', []]]) });
  assert.equal(res.ok, false);
  if (!res.ok) {
    assert.deepEqual(res.problems.map((p) => p.path), ['rules[0].targets[0].provider', 'rules[0].fallbacks[1]']);
  }
});

test('a target naming a model its provider does not list is rejected; a provider listing nothing serves any model', () => {
  const providers = new Map([['openai', ['gpt-4o', 'gpt-4o-mini']], ['open', []]]);
  const ok = rule({ name: 'a', cel_expression: 'true', targets: [{ provider: 'openai', model: 'gpt-4o' }, { provider: 'open', model: 'anything' }], fallbacks: ['openai/gpt-4o-mini'] });
  assert.equal(compile([ok], { providers }).ok, true);
  const bad = rule({ name: 'b', cel_expression: 'true', targets: [{ provider: 'openai', model: 'gpt-5' }], fallbacks: ['openai/o9'] });
  const res = compile([bad], { providers });
  assert.ok(!res.ok);
  assert.deepEqual(res.problems.map((p) => p.path), ['rules[0].targets[0].model', 'rules[0].fallbacks[0]']);
  assert.match(res.problems[0]!.message, /provider 'openai' does not list model 'gpt-5'/);
});

test('references cover enabled rules only and ignore macro variables', () => {
  const set = compiled([
    { name: 'a', cel_expression: 'intent == "code" && headers.exists(k, k == "x-a")', targets: t1 },
    { name: 'b', cel_expression: 'cache_similarity > 0.9', targets: t1, enabled: false },
  ]);
  assert.deepEqual([...set.references].sort(), ['headers', 'intent']);
  assert.deepEqual([...set.byName.get('b')!.references], ['cache_similarity']);
});

test('structural config errors name the config path and rule', () => {
  const res = parseRules([{ name: 'ok', cel_expression: 'true', targets: t1 }, { name: 'bad', cel_expression: 'true', targets: [], extra: 1 }]);
  assert.equal(res.ok, false);
  if (!res.ok) {
    const paths = res.problems.map((p) => `${p.path}|${p.rule}`);
    assert.ok(paths.includes('rules[1].targets|bad'), paths.join(','));
    assert.ok(paths.some((p) => p.startsWith('rules[1]') && p.endsWith('|bad')));
  }
});
