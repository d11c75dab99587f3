import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { re2js } from '../../src/util/re2.js';
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

  it('checks the common counted, unicode-property and escaped patterns', () => {
    const cases: Array<[string, string[], string[]]> = [
      ['^[a-z]{1,64}$', ['abc', 'a'.repeat(64)], ['', 'a'.repeat(65), 'Abc']],
      ['^.{1,255}$', ['x', '😀'.repeat(255)], ['', 'x'.repeat(256), 'a\nb', 'a\rb', 'a\u2028b']],
      ['^\\p{L}+$', ['héllo', 'ΑΒΓ', '日本'], ['abc1', 'a b', '']],
      ['^\\P{L}$', ['1'], ['é']],
      ['^\\d{3}-\\d{4}$', ['555-1234'], ['555-123', '٥٥٥-١٢٣٤']],
      ['^caf\\u00e9$', ['café'], ['cafe']],
      ['^\\u{1F600}+$', ['😀😀'], ['😁']],
      ['^😀{2}$', ['😀😀'], ['😀']],
      ['^\\s+$', [' \t', '\u00a0\u3000\ufeff\v'], ['a']],
      ['^\\S+$', ['a😀'], ['a b', 'a\u00a0']],
      ['^[\\s\\S]{2}$', ['\n\r'], ['\n']],
      ['^[^]$', ['\n'], ['']],
      ['^[]?$', [''], ['a']],
      ['^(?<year>\\d{4})/x$', ['2024/x'], ['24/x']],
      ['^\\cJ$', ['\n'], ['J']],
    ];
    for (const [pattern, good, bad] of cases) {
      for (const s of good) {
        const problems: string[] = [];
        assert.equal(reason(checkJson(JSON.stringify({ s }), stringWith(pattern), (m) => problems.push(m))), 'pass', `${pattern} ${JSON.stringify(s)}`);
        assert.deepEqual(problems, [], pattern);
        assert.equal(new RegExp(pattern, 'u').test(s), true, 'the ECMAScript verdict');
      }
      for (const s of bad) {
        assert.equal(reason(checkJson(JSON.stringify({ s }), stringWith(pattern))), 'schema_mismatch', `${pattern} ${JSON.stringify(s)}`);
        assert.equal(new RegExp(pattern, 'u').test(s), false, 'the ECMAScript verdict');
      }
    }
    // patternProperties with a counted repetition
    const keys = { type: 'object', patternProperties: { '^[a-z]{1,32}$': { type: 'number' } } };
    assert.equal(reason(checkJson('{"abc": 1}', keys)), 'pass');
    assert.equal(reason(checkJson('{"abc": "x"}', keys)), 'schema_mismatch');
  });

  it('a pattern RE2 cannot run is reported like an uncompilable schema', () => {
    for (const pattern of ['^(a)\\1$', '^(?<x>a)\\k<x>$', '^(?=a)a$', '^(?!b)a$', '(?<=a)b', '(?<!a)b', '^a{1,1001}$', '^\\p{Letter}$', '^\\p{Script=Greek}$', '^\\uD83D\\uDE00$', '^[a\\S]$']) {
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
    // re2js falls back to its NFA, ~20 ns a character for each instruction of the program, when the pattern's automaton
    // outgrows its DFA cache: a 4 MB string is hundreds of ms even against ^.*$. A search is charged
    // (text + 1) × (program size + 5) before it runs.
    const pattern = `^(?:${Array(20).fill('a').join('|')})*$`;
    const size = linearRegExp(pattern, 'u').re2.programSize();
    const fits = Math.floor(PATTERN_WORK / (size + 5)) - 1;
    const problems: string[] = [];
    assert.equal(reason(checkJson(JSON.stringify({ s: `${'a'.repeat(fits - 1)}b` }), stringWith(pattern), (m) => problems.push(m))), 'schema_mismatch');
    assert.equal(problems.length, 0);
    assert.equal(reason(checkJson(JSON.stringify({ s: `${'a'.repeat(fits)}b` }), stringWith(pattern), (m) => problems.push(m))), 'pass');
    assert.match(problems[0]!, /too long to check against the response_format json_schema's patterns/);
    // a counted repetition is charged as the copies RE2 compiles it to
    assert.ok(linearRegExp('^.{1,255}$', 'u').re2.programSize() > 255);
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

  it('compiles to an RE2 automaton', () => {
    const engine = linearRegExp('^(a+)+$', 'u');
    assert.ok(engine.re2 instanceof re2js());
    assert.equal(engine.re2.pattern(), '^(a+)+$');
    assert.equal(engine.test(`${'a'.repeat(100_000)}b`), false);
    assert.equal(engine.test('a'.repeat(100_000)), true);
    // `.` keeps its ECMAScript meaning: not a line terminator
    assert.equal(linearRegExp('^.$', 'u').re2.pattern(), '^[^\\n\\r\\x{2028}\\x{2029}]$');
  });
});
