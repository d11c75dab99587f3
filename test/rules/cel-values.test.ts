import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { celSafe } from '../../src/rules/cel-values.js';
import { routeRequest } from '../../src/rules/route.js';
import { compiled, ctxOf } from './helpers.js';

const T = { provider: 'openai', model: 'gpt-4o-mini' };
/** A body as the edge has it: parsed from the caller's JSON text (so `__proto__` is an own member, as JSON.parse makes it). */
const parsed = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;

async function matches(expr: string, body: Record<string, unknown>, headers?: Record<string, string>): Promise<boolean> {
  const set = compiled([{ name: 'r', cel_expression: expr, targets: [T] }]);
  return (await routeRequest(set, ctxOf(body, { headers }), {})).decision.matched;
}

test('a body member named constructor or __proto__ does not stop rules reading params', async () => {
  for (const text of [
    '{"model":"m","temperature":1.5,"constructor":"x"}',
    '{"model":"m","temperature":1.5,"constructor":{"prototype":1}}',
    '{"model":"m","temperature":1.5,"__proto__":{"constructor":"y","temperature":0}}',
    '{"model":"m","temperature":1.5,"metadata":{"constructor":{"a":1}}}',
    '{"model":"m","temperature":1.5,"metadata":{"list":[{"constructor":"z"}]}}',
    '{"model":"m","temperature":1.5,"\\u0063onstructor":"escaped"}',
  ]) {
    assert.equal(await matches('params.temperature > 1.0', parsed(text)), true, text);
    assert.equal(await matches('params.temperature < 1.0', parsed(text)), false, text);
  }
  // The members stay readable as what they are.
  assert.equal(await matches('params.constructor == "x"', parsed('{"temperature":1,"constructor":"x"}')), true);
  assert.equal(await matches('params.metadata.constructor.a == 1', parsed('{"metadata":{"constructor":{"a":1}}}')), true);
  assert.equal(await matches('params.metadata.list[0].constructor == "z"', parsed('{"metadata":{"list":[{"constructor":"z"}]}}')), true);
  assert.equal(await matches('params.__proto__.temperature == 0', parsed('{"temperature":1.5,"__proto__":{"temperature":0}}')), true);
  assert.equal(await matches('size(params) == 2', parsed('{"model":"m","temperature":1.5,"__proto__":{"constructor":"y"}}')), true);
});

test('a header named constructor does not stop rules reading headers', async () => {
  const headers = Object.fromEntries([['x-tier', 'gold'], ['constructor', 'x']]);
  assert.equal(await matches('headers["x-tier"] == "gold"', { model: 'm' }, headers), true);
  assert.equal(await matches('!("x-team" in headers)', { model: 'm' }, headers), true);
  assert.equal(await matches('headers.constructor == "x"', { model: 'm' }, headers), true);
});

test('celSafe: the same members and values at every depth; unchanged values are not copied', () => {
  const key = fc.constantFrom('constructor', '__proto__', 'toString', 'a', 'b', 'valueOf', 'hasOwnProperty');
  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }),
  }));
  // Objects are built from member lists through JSON text, as a body arrives (own __proto__ members included).
  const toJson = (v: unknown): string =>
    Array.isArray(v) && v.every((x) => Array.isArray(x) && x.length === 2 && typeof x[0] === 'string')
      ? `{${v.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`
      : Array.isArray(v) ? `[${v.map(toJson).join(',')}]` : JSON.stringify(v);
  const back = (v: unknown): unknown => {
    if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, back(x)]));
    if (Array.isArray(v)) return v.map(back);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, back(x)]));
    return v;
  };
  const hasConstructor = (v: unknown): boolean =>
    Array.isArray(v) ? v.some(hasConstructor) : v !== null && typeof v === 'object' && (Object.hasOwn(v, 'constructor') || Object.values(v).some(hasConstructor));
  fc.assert(fc.property(json.object, (members) => {
    const v = JSON.parse(toJson(members)) as unknown;
    const safe = celSafe(v);
    assert.deepEqual(back(safe), back(v));
    if (!hasConstructor(v)) assert.equal(safe, v);
    const plainWithConstructor = (x: unknown): boolean =>
      Array.isArray(x) ? x.some(plainWithConstructor)
        : x instanceof Map ? [...x.values()].some(plainWithConstructor)
          : x !== null && typeof x === 'object' && (Object.hasOwn(x, 'constructor') || Object.values(x).some(plainWithConstructor));
    assert.equal(plainWithConstructor(safe), false);
  }), { numRuns: 2000, seed: 19 });
});
