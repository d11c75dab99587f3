/** Counting a JSON body's object members, objects and arrays, and values in its text, before it is parsed (server.limits). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { structureOver } from '../../src/server/request-body.js';
import { readJsonText } from '../../src/util/json-text-shape.js';

/** Object members of a parsed value. */
function members(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + members(x), 0);
  if (v === null || typeof v !== 'object') return 0;
  return Object.values(v).reduce((n: number, x) => n + 1 + members(x), 0);
}

/** Nesting depth of a parsed value (a scalar 0, an empty array 1). */
function depth(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  return 1 + (Array.isArray(v) ? v : Object.values(v)).reduce((n: number, x) => Math.max(n, depth(x)), 0);
}

/** Objects and arrays of a parsed value, itself included. */
function containers(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  return (Array.isArray(v) ? v : Object.values(v)).reduce((n: number, x) => n + containers(x), 1);
}

/** A parsed value's array elements and object members, and the commas between them (a list of n values has n - 1). */
function values(v: unknown): { values: number; commas: number } {
  if (v === null || typeof v !== 'object') return { values: 0, commas: 0 };
  const inner = Array.isArray(v) ? v : Object.values(v);
  return inner.map(values).reduce((a, b) => ({ values: a.values + b.values, commas: a.commas + b.commas }), { values: inner.length, commas: Math.max(0, inner.length - 1) });
}

const over = (text: string, maxMembers: number, maxContainers: number, maxValues = Infinity) =>
  structureOver(Buffer.from(text), { max_members: maxMembers, max_containers: maxContainers, max_values: maxValues });

test('the counts in the text are the parsed body\'s, whatever its strings hold', () => {
  // Strings full of the characters the counts must see past: colons, brackets, quotes, backslashes, and multi-byte text.
  const tricky = fc.string({ unit: fc.constantFrom(':', '"', '\\', 'a', 'é', '😀', '{', '}', '[', ']', ',', ' ') });
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, tricky, fc.integer(), fc.constant(null), fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(tricky, tie('node'), { maxKeys: 5 })),
  })).node;
  fc.assert(fc.property(value, fc.nat({ max: 12 }), fc.nat({ max: 12 }), fc.integer({ min: 1, max: 12 }), (v, maxMembers, maxContainers, maxValues) => {
    const text = JSON.stringify(v);
    const parsed: unknown = JSON.parse(text);
    const m = members(parsed);
    const c = containers(parsed);
    const n = values(parsed);
    const got = over(text, maxMembers, maxContainers, maxValues);
    const detail = `${text} has ${m} members, ${c} containers, ${n.values} values and ${n.commas} commas, limits ${maxMembers} / ${maxContainers} / ${maxValues}: ${got}`;
    // Within every bound (the values counted by their commas: one list of them is exact, several may hold a few more): served.
    if (m <= maxMembers && c <= maxContainers && n.commas < maxValues) assert.equal(got, undefined, detail);
    // Refused: named for a bound it is over.
    if (got !== undefined) assert.ok((got === 'members' && m > maxMembers) || (got === 'containers' && c > maxContainers) || (got === 'values' && n.values > maxValues), detail);
    // Over the member or container bound, or more commas than values allowed: refused.
    if (m > maxMembers || c > maxContainers || n.commas >= maxValues) assert.notEqual(got, undefined, detail);
    const d = depth(parsed);
    const shape = readJsonText(text, { depth: maxContainers });
    assert.equal(shape.over === 'depth', d > maxContainers, `${text} is ${d} deep`);
    if (shape.over === undefined) assert.equal(shape.commas, n.commas, `${text} has ${n.commas} commas`);
  }), { numRuns: 3000 });
});

test('a body of few such characters is decided by the native searches alone; past a limit only those outside strings count', () => {
  assert.equal(over(`{"a":"${':'.repeat(100)}${'['.repeat(100)}"}`, 1, 1), undefined);
  assert.equal(over(`{"a":1,"b":2}`, 1, 10), 'members');
  assert.equal(over(`{"a":1,"b":2}`, 2, 10), undefined);
  assert.equal(over(`{"a\\\\":1,"b\\":":2}`, 1, 10), 'members');
  assert.equal(over(`[[[[]]]]`, 10, 3), 'containers');
  assert.equal(over(`[{},{},{}]`, 10, 3), 'containers');
  assert.equal(over(`[{},{}]`, 10, 3), undefined);
  assert.equal(over(`{"[[[[":"{{{{"}`, 10, 1), undefined);
  assert.equal(over(`[1,2,3,4]`, 10, 10, 3), 'values');
  assert.equal(over(`[1,2,3,4]`, 10, 10, 4), undefined);
  assert.equal(over(`["a,b,c,d,e"]`, 10, 10, 1), undefined);
  assert.equal(over(`{"a\\\\":1,"b\\":,,,":2}`, 10, 10, 2), undefined);
  assert.equal(over(`{"a\\\\":1,"b\\":,,,":2}`, 10, 10, 1), 'values');
});
