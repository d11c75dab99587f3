/**
 * The cascade's JSON check compiles the schema a request's response_format carries. The schemas are the callers', so
 * what is kept of them is bounded (Ajv keeps everything it compiled: the check replaces its instance after a bounded number
 * of compiles), and one caller's schema never changes how another's is checked (its `$id`s are not left registered).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { checkJson } from '../../src/cascade/checks/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('distinct schemas from callers do not accumulate', () => {
  const schema = (i: number) => ({ type: 'object', properties: { [`field_${i}`]: { type: 'string' }, a: { type: 'number' } }, required: ['a'] });
  for (let i = 0; i < 600; i++) checkJson('{"a":1}', schema(-1 - i));
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 8000; i++) assert.equal(checkJson('{"a":1}', schema(i)).pass, true);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  // About 5 kB a compiled schema: 40 MB when every one was kept.
  assert.ok(grown < 12 * 1024 * 1024, `heap grew ${(grown / 1024 / 1024).toFixed(1)} MB for 8000 schemas`);
});

test("one caller's $id does not refuse another caller's schema with the same id", () => {
  const first = { $id: 'https://example.com/answer', type: 'object', properties: { a: { type: 'number' } }, required: ['a'] };
  const second = { $id: 'https://example.com/answer', type: 'object', properties: { b: { type: 'string' } }, required: ['b'] };
  assert.equal(checkJson('{"a":1}', first).pass, true);
  assert.equal(checkJson('{"b":1}', first).pass, false);
  const problems: string[] = [];
  assert.equal(checkJson('{"a":1}', second, (m) => problems.push(m)).pass, false, 'checked against its own schema');
  assert.equal(checkJson('{"b":"x"}', second, (m) => problems.push(m)).pass, true);
  assert.deepEqual(problems, []);
});
