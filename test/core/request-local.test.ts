import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestContext } from '../../src/pipeline/context.js';
import { RequestLocal } from '../../src/pipeline/request-local.js';

// Only `slots` is read; a bare object stands for a context.
const context = (): RequestContext => ({}) as RequestContext;

test('a request-local value is per context and per slot, like a WeakMap keyed by the context', () => {
  const a = new RequestLocal<number>('a');
  const b = new RequestLocal<number>('a'); // same name, still its own slot (two instances of one stage)
  const one = context();
  const two = context();
  assert.equal(a.get(one), undefined);
  a.set(one, 1).set(two, 2);
  b.set(one, 10);
  assert.deepEqual([a.get(one), a.get(two), b.get(one), b.get(two)], [1, 2, 10, undefined]);
  assert.equal(a.delete(one), true);
  assert.equal(a.delete(one), false);
  assert.deepEqual([a.get(one), b.get(one), a.has(two)], [undefined, 10, true]);
});

test('a context copied by spreading reads none of the original\'s state and gets its own on first write', () => {
  const local = new RequestLocal<string>('state');
  const original = context();
  local.set(original, 'original');
  const copy: RequestContext = { ...original };
  assert.equal(copy.slots, original.slots); // the spread carries the object over...
  assert.equal(local.get(copy), undefined); // ...but it belongs to the original
  local.set(copy, 'copy');
  assert.equal(local.get(copy), 'copy');
  assert.equal(local.get(original), 'original');
  assert.notEqual(copy.slots, original.slots);
});
