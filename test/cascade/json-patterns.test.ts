import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkJson } from '../../src/cascade/checks/index.js';
import { PATTERN_WORK } from '../../src/cascade/checks/json.js';
import { linearRegExp } from '../../src/cascade/checks/linear-pattern.js';

const reason = (v: { pass: boolean; reason?: string }) => (v.pass ? 'pass' : v.reason);
const stringWith = (pattern: string) => ({ type: 'object', properties: { s: { type: 'string', pattern } } });

/** Whether the check runs patterns on the linear engine: only that engine refuses a backreference. */
function linear(): boolean {
  const problems: string[] = [];
  checkJson('{"s": "aa"}', stringWith('^(a)\\1$'), (m) => problems.push(m));
  return problems.some((p) => p.includes('linear time'));
}

describe('JSON check: schema patterns run in linear time', () => {
  it('a catastrophic pattern on a long near-match gives the normal verdict', () => {
    // asserted first: on the backtracking engine the searches below would take 2^5000 steps, and nothing could stop them
    assert.ok(linear(), 'patterns are compiled for the linear engine');
    const answer = JSON.stringify({ s: `${'a'.repeat(5000)}b` });
    assert.equal(reason(checkJson(answer, stringWith('^(a+)+$'))), 'schema_mismatch');
    assert.equal(reason(checkJson(JSON.stringify({ s: 'a'.repeat(5000) }), stringWith('^(a+)+$'))), 'pass');
    // the same in patternProperties, where the caller's pattern meets the model's keys
    const keys = { type: 'object', patternProperties: { '^(a|a)*$': { type: 'number' } } };
    assert.equal(reason(checkJson(JSON.stringify({ [`${'a'.repeat(5000)}b`]: 'x', [`${'a'.repeat(50)}`]: 1 }), keys)), 'pass');
    assert.equal(reason(checkJson(JSON.stringify({ [`${'a'.repeat(5000)}`]: 'x' }), keys)), 'schema_mismatch');
  });

  it('a pattern the linear engine cannot run is reported like an uncompilable schema', () => {
    for (const pattern of ['^(a)\\1$', '^(?=a)a$', '(?<=a)b', '^[a-z]{1,64}$', '^\\p{L}+$', '^\\u{1F600}$', '^😀$', '^\\uD83D\\uDE00$']) {
      const problems: string[] = [];
      assert.equal(reason(checkJson('{"s": "aa"}', stringWith(pattern), (m) => problems.push(m))), 'pass', pattern);
      assert.equal(problems.length, 1, pattern);
      assert.match(problems[0]!, /cannot be compiled: pattern .* cannot be checked in linear time/, pattern);
    }
    // not a unicode pattern at all: the syntax error is the one Ajv reported before
    const problems: string[] = [];
    assert.equal(reason(checkJson('{"s": "-"}', stringWith('\\-'), (m) => problems.push(m))), 'pass');
    assert.match(problems[0]!, /Invalid regular expression: \/\\-\/u/);
  });

  it('bounds the searching of one answer: past the budget it is reported, not validated', () => {
    // The linear engine costs ~50 ns a character for each character of the pattern: a 1 MB string against a 4,000-character
    // pattern would be minutes. A search is charged (text + 1) × (pattern + 5) before it runs.
    const pattern = `^(?:${Array(20).fill('a').join('|')})*$`; // 44 characters: 49 a character
    const fits = Math.floor(PATTERN_WORK / (pattern.length + 5)) - 1;
    const problems: string[] = [];
    assert.equal(reason(checkJson(JSON.stringify({ s: `${'a'.repeat(fits - 1)}b` }), stringWith(pattern), (m) => problems.push(m))), 'schema_mismatch');
    assert.equal(problems.length, 0);
    assert.equal(reason(checkJson(JSON.stringify({ s: `${'a'.repeat(fits)}b` }), stringWith(pattern), (m) => problems.push(m))), 'pass');
    assert.match(problems[0]!, /too long to check against the response_format json_schema's patterns/);
    // the budget is the answer's, not each string's
    const many = JSON.stringify({ s: Array.from({ length: 100_000 }, () => 'abcdefghij') });
    const items = { type: 'object', properties: { s: { type: 'array', items: { type: 'string', pattern: '^[a-j]+$' } } } };
    assert.equal(reason(checkJson(many, items, (m) => problems.push(m))), 'pass');
    assert.equal(problems.length, 2);
    assert.equal(reason(checkJson(JSON.stringify({ s: ['abc', 'xyz'] }), items)), 'schema_mismatch');
  });

  it('keeps the unicode meaning: one character per code point, patterns told apart', () => {
    assert.equal(reason(checkJson(JSON.stringify({ s: '😀' }), stringWith('^.$'))), 'pass');
    assert.equal(reason(checkJson(JSON.stringify({ s: '😀x' }), stringWith('^[^x]{2}$'))), 'schema_mismatch');
    assert.equal(reason(checkJson(JSON.stringify({ s: 'a😀b' }), stringWith('^a\\Sb$'))), 'pass');
    assert.equal(reason(checkJson(JSON.stringify({ s: 'é' }), stringWith('^\\w$'))), 'schema_mismatch');
    const two = { type: 'object', properties: { a: { type: 'string', pattern: '^x+$' }, b: { type: 'string', pattern: '^y+$' } } };
    assert.equal(reason(checkJson('{"a": "xx", "b": "yy"}', two)), 'pass');
    assert.equal(reason(checkJson('{"a": "xx", "b": "xx"}', two)), 'schema_mismatch');
    assert.equal(reason(checkJson('{"s": "2024-05-01"}', stringWith('^\\d{4}-\\d{2}-\\d{2}$'))), 'pass');
  });

  it('compiles to a linear-time regular expression', () => {
    const engine = linearRegExp('^(a+)+$', 'u') as unknown as { test(s: string): boolean; regExp: RegExp };
    assert.ok(engine.regExp.flags.includes('l'), engine.regExp.flags);
    assert.equal(engine.test(`${'a'.repeat(100_000)}b`), false);
  });
});
