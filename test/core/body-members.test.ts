/** Counting a JSON body's object members, objects and arrays in its text, before it is parsed (server.limits). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { structureOver } from '../../src/server/request-body.js';
import { nestedDeeperThan } from '../../src/util/json-nesting.js';

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

const over = (text: string, maxMembers: number, maxContainers: number) =>
  structureOver(Buffer.from(text), { max_members: maxMembers, max_containers: maxContainers });

test('the counts in the text are the parsed body\'s, whatever its strings hold', () => {
  // Strings full of the characters the counts must see past: colons, brackets, quotes, backslashes, and multi-byte text.
  const tricky = fc.string({ unit: fc.constantFrom(':', '"', '\\', 'a', 'é', '😀', '{', '}', '[', ']', ',', ' ') });
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, tricky, fc.integer(), fc.constant(null), fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(tricky, tie('node'), { maxKeys: 5 })),
  })).node;
  fc.assert(fc.property(value, fc.nat({ max: 12 }), fc.nat({ max: 12 }), (v, maxMembers, maxContainers) => {
    const text = JSON.stringify(v);
    const parsed: unknown = JSON.parse(text);
    const m = members(parsed);
    const c = containers(parsed);
    const got = over(text, maxMembers, maxContainers);
    const detail = `${text} has ${m} members and ${c} containers, limits ${maxMembers} / ${maxContainers}: ${got}`;
    if (m <= maxMembers && c <= maxContainers) assert.equal(got, undefined, detail);
    // Over either bound: refused, and named for a bound it is over.
    else assert.ok((got === 'members' && m > maxMembers) || (got === 'containers' && c > maxContainers), detail);
    const d = depth(parsed);
    assert.equal(nestedDeeperThan(text, maxContainers), d > maxContainers, `${text} is ${d} deep`);
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
});
