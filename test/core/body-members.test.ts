/** Counting a JSON body's object members in its text, before it is parsed (server.limits.max_members). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { tooManyMembers } from '../../src/server/request-body.js';

/** Object members of a parsed value. */
function members(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + members(x), 0);
  if (v === null || typeof v !== 'object') return 0;
  return Object.values(v).reduce((n: number, x) => n + 1 + members(x), 0);
}

test('the count of members in the text is the parsed body\'s, whatever its strings hold', () => {
  // Strings full of the characters the count must see past: colons, quotes, backslashes, and multi-byte text.
  const tricky = fc.string({ unit: fc.constantFrom(':', '"', '\\', 'a', 'é', '😀', '{', '}', ',', ' ') });
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, tricky, fc.integer(), fc.constant(null), fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(tricky, tie('node'), { maxKeys: 5 })),
  })).node;
  fc.assert(fc.property(value, fc.nat({ max: 12 }), (v, limit) => {
    const text = JSON.stringify(v);
    const n = members(JSON.parse(text));
    assert.equal(tooManyMembers(Buffer.from(text), limit), n > limit, `${text} has ${n} members, limit ${limit}`);
  }), { numRuns: 2000 });
});

test('a body of few colons is decided by the native search alone; past the limit only members outside strings count', () => {
  assert.equal(tooManyMembers(Buffer.from(`{"a":"${':'.repeat(100)}"}`), 1), false);
  assert.equal(tooManyMembers(Buffer.from(`{"a":1,"b":2}`), 1), true);
  assert.equal(tooManyMembers(Buffer.from(`{"a":1,"b":2}`), 2), false);
  assert.equal(tooManyMembers(Buffer.from(`{"a\\\\":1,"b\\":":2}`), 1), true);
});
