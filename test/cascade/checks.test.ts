import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { answerFromBody, answerFromParts } from '../../src/cascade/answer.js';
import {
  checkFinish, checkJson, checkLogprobs, checkMinLength, checkPatterns, checkRefusal, compileChecks, detectRefusal, judgeRequest,
  judgeVerdict, parseGrade, requestedSchema, runChecks, runLocalChecks,
} from '../../src/cascade/checks/index.js';
import { checksSchema, judgeCheckSchema, toRegExp } from '../../src/cascade/config.js';
import { FENCE_OPEN, MAX_ANSWER_DEPTH, unfence } from '../../src/cascade/checks/json.js';
import { withBacktrackLimit } from '../helpers/backtracks.js';
import { partsOfChunks } from '../helpers/stream-parts.js';
import type { Answer } from '../../src/cascade/types.js';

const answer = (text: string, extra: Partial<Answer> = {}): Answer => ({ text, finishReason: 'stop', toolCalls: false, refusal: null, logprobs: undefined, ...extra });
const reason = (v: { pass: boolean; reason?: string }) => (v.pass ? 'pass' : v.reason);

describe('json check', () => {
  const schema = { type: 'object', properties: { city: { type: 'string' }, temp: { type: 'number' } }, required: ['city', 'temp'], additionalProperties: false };

  it('accepts valid JSON, also inside a ```json fence, and rejects the rest', () => {
    assert.equal(reason(checkJson('{"a": 1}', undefined)), 'pass');
    assert.equal(reason(checkJson('```json\n{"a": [1, 2]}\n```', undefined)), 'pass');
    assert.equal(reason(checkJson('{"a": 1', undefined)), 'invalid_json');
    assert.equal(reason(checkJson('Sure! Here is the JSON: {"a": 1}', undefined)), 'invalid_json');
  });

  it('validates against the json_schema of response_format', () => {
    const body = { response_format: { type: 'json_schema', json_schema: { name: 'w', schema } } };
    const s = requestedSchema(body);
    assert.deepEqual(s, schema);
    assert.equal(reason(checkJson('{"city": "Oslo", "temp": 3.5}', s)), 'pass');
    const v = checkJson('{"city": "Oslo", "temp": "cold"}', s);
    assert.equal(reason(v), 'schema_mismatch');
    assert.match((v as { detail: string }).detail, /\/temp/);
    assert.equal(reason(checkJson('{"city": "Oslo"}', s)), 'schema_mismatch');
    assert.equal(requestedSchema({ response_format: { type: 'json_object' } }), undefined);
  });

  it('reads a fence\'s blank lines once', () => {
    // One expression with a lazy body before an anchored end retried it from each of the n newlines after "```": n² / 2
    // steps (5 billion here) for an answer that is not even fenced. The opening line alone backtracks at most n times.
    const blanks = '\n'.repeat(100_000);
    assert.equal(withBacktrackLimit(FENCE_OPEN, 200_000).exec(`\`\`\`${blanks}x`)?.[0].length, 3 + blanks.length);
    assert.equal(unfence(`\`\`\`${blanks}x`), `\`\`\`${blanks}x`);
    assert.equal(unfence(`\`\`\`json${blanks}{"a": 1}\n\`\`\``), '{"a": 1}');
    assert.equal(unfence('```JSON \n\n{"a": 1}```'), '{"a": 1}');
    assert.equal(unfence('```\n```'), '');
    assert.equal(unfence('```json {"a": 1}```'), '```json {"a": 1}```', 'no newline after the opening: not a fence');
    assert.equal(unfence('```\n{"a": 1}\n\n```'), '{"a": 1}\n');
  });

  it('an answer nested deeper than the validators can follow is reported, not validated', () => {
    // a recursive schema: Ajv's validator calls itself once a level, and ran out of stack near 4,000 levels (a RangeError
    // out of the check, failing the request)
    const tree = { $ref: '#/$defs/n', $defs: { n: { type: 'array', items: { $ref: '#/$defs/n' } } } };
    const nested = (depth: number, leaf = '') => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
    const problems: string[] = [];
    assert.equal(reason(checkJson(nested(100_000), tree, (m) => problems.push(m))), 'pass');
    assert.deepEqual(problems, [`the answer nests arrays and objects deeper than ${MAX_ANSWER_DEPTH} levels: not checked against the response_format json_schema`]);
    assert.equal(reason(checkJson(nested(MAX_ANSWER_DEPTH), tree, (m) => problems.push(m))), 'pass');
    assert.equal(reason(checkJson(nested(MAX_ANSWER_DEPTH - 1, '1'), tree, (m) => problems.push(m))), 'schema_mismatch');
    assert.equal(problems.length, 1);
  });

  it('uniqueItems looks each item up once instead of comparing every pair', () => {
    // Ajv's own keyword calls its deep equal n² / 2 times for items that may be arrays or objects (2 million here)
    const runtime = createRequire(import.meta.url)('ajv/dist/runtime/equal') as { default: (a: unknown, b: unknown) => boolean };
    const equal = runtime.default;
    let comparisons = 0;
    runtime.default = (a, b) => (comparisons++, equal(a, b));
    try {
      const distinct = JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: [i] })));
      assert.equal(reason(checkJson(distinct, { type: 'array', uniqueItems: true, minItems: 2000 })), 'pass');
      assert.equal(comparisons, 0);
    } finally {
      runtime.default = equal;
    }
    const unique = { type: 'array', uniqueItems: true };
    const v = checkJson('[{"a": 1, "b": [2, {"c": null}]}, 3, {"b": [2, {"c": null}], "a": 1}]', unique);
    assert.equal(reason(v), 'schema_mismatch');
    assert.match((v as { detail: string }).detail, /duplicate items \(items ## 0 and 2 are identical\)/);
    assert.equal(reason(checkJson('[[1, 2], [2, 1], 1, "1", null, false, {"a": 1}, {"a": 1, "b": 1}]', unique)), 'pass');
    assert.equal(reason(checkJson('[1, 1.0]', unique)), 'schema_mismatch');
    assert.equal(reason(checkJson('[1, 1]', { type: 'array', uniqueItems: false })), 'pass');
  });

  it('an uncompilable schema is reported, not held against the answer', () => {
    const problems: string[] = [];
    assert.equal(reason(checkJson('{"a": 1}', { type: 'no-such-type' }, (m) => problems.push(m))), 'pass');
    assert.equal(problems.length, 1);
  });
});

describe('pattern, length and finish checks', () => {
  it('must match every pattern and no forbidden one; (?i) is case-insensitive', () => {
    const must = [toRegExp('\\bSELECT\\b'), toRegExp('(?i)from')];
    const mustNot = [toRegExp('(?i)drop\\s+table')];
    assert.equal(reason(checkPatterns('SELECT a FROM t', must, mustNot)), 'pass');
    assert.equal(reason(checkPatterns('select a from t', must, mustNot)), 'must_match');
    assert.equal(reason(checkPatterns('SELECT a FROM t; Drop Table t', must, mustNot)), 'must_not_match');
  });

  it('minimum length counts trimmed characters', () => {
    assert.equal(reason(checkMinLength('   abc   ', 4)), 'too_short');
    assert.equal(reason(checkMinLength('abcd', 4)), 'pass');
  });

  it('finish_reason length fails', () => {
    assert.equal(reason(checkFinish('length')), 'truncated');
    assert.equal(reason(checkFinish('stop')), 'pass');
    assert.equal(reason(checkFinish(null)), 'pass');
  });
});

describe('refusal check', () => {
  const refusals = [
    "I'm sorry, but I can't help with that request.",
    'I cannot assist with creating malware.',
    'Sorry, I am unable to provide that information.',
    'As an AI language model, I do not have personal opinions.',
    "I don't know.",
    "I'm not sure what the answer is.",
    'Unfortunately, I cannot browse the internet.',
    '[cheap] I’m afraid I can’t do that.',
    'I must decline to answer this.',
  ];
  const answers = [
    'The capital of France is Paris.',
    "I'm sorry to hear you are stressed. Here are five techniques that help: breathing, walks, sleep, planning and talking to friends.",
    'To reverse a list in Python, use `xs[::-1]` or `xs.reverse()`.',
    `${'Here is a detailed plan for your trip. '.repeat(10)}If you are not sure about dates, I don't know of a better way than to book early.`,
  ];
  for (const r of refusals) it(`fails: ${r}`, () => assert.equal(reason(checkRefusal(r, null)), 'refusal'));
  for (const a of answers) it(`passes: ${a.slice(0, 50)}`, () => assert.equal(detectRefusal(a), undefined));
  it('the message refusal field and an empty answer fail', () => {
    assert.equal(reason(checkRefusal('ok', 'I refuse')), 'refusal');
    assert.equal(reason(checkRefusal('   ', null)), 'refusal');
  });
});

describe('logprobs check', () => {
  it('mean and minimum thresholds; missing logprobs pass or fail as configured', () => {
    assert.equal(reason(checkLogprobs([-0.1, -0.2, -0.3], { min_mean: -0.5, when_missing: 'pass' })), 'pass');
    assert.equal(reason(checkLogprobs([-0.1, -2.5, -0.3], { min_mean: -0.5, when_missing: 'pass' })), 'low_confidence');
    assert.equal(reason(checkLogprobs([-0.1, -7, -0.1, -0.1, -0.1, -0.1], { min_mean: -2, min_token: -6, when_missing: 'pass' })), 'low_confidence');
    assert.equal(reason(checkLogprobs(undefined, { min_mean: -1, when_missing: 'pass' })), 'pass');
    assert.equal(reason(checkLogprobs([], { min_mean: -1, when_missing: 'fail' })), 'low_confidence');
  });

  it('reads chat and text-completion logprobs from replies and streams', () => {
    const chat = answerFromBody({ choices: [{ index: 0, message: { content: 'hi there' }, finish_reason: 'stop', logprobs: { content: [{ token: 'hi', logprob: -0.5 }, { token: ' there', logprob: -1.5 }] } }] });
    assert.deepEqual(chat.logprobs, [-0.5, -1.5]);
    const text = answerFromBody({ choices: [{ index: 0, text: 'ok', finish_reason: 'length', logprobs: { tokens: ['ok'], token_logprobs: [-0.25] } }] });
    assert.deepEqual(text.logprobs, [-0.25]);
    assert.equal(text.finishReason, 'length');
    const streamed = answerFromParts([
      ...partsOfChunks([
        { choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] },
        { choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [{ token: 'hi', logprob: -0.1 }] } }] },
        { choices: [{ index: 1, delta: { content: 'other choice' } }] },
        { choices: [{ index: 0, delta: { content: ' you' }, finish_reason: 'stop' }] },
      ]),
      { type: 'done' },
    ]);
    assert.equal(streamed.text, 'hi you');
    assert.deepEqual(streamed.logprobs, [-0.1]);
    assert.equal(streamed.finishReason, 'stop');
  });
});

describe('judge', () => {
  const judge = judgeCheckSchema.parse({ provider: 'cheap', model: 'grader', threshold: 7 });

  it('reads the grade from typical replies', () => {
    assert.equal(parseGrade('8'), 8);
    assert.equal(parseGrade('[judge] 9'), 9);
    assert.equal(parseGrade('Score: 10'), 10);
    assert.equal(parseGrade('I would rate this 6/10 because it misses details.'), 6);
    assert.equal(parseGrade('Rating = 3'), 3);
    assert.equal(parseGrade('no number here'), undefined);
    assert.equal(parseGrade('version 2.5 of it'), undefined);
  });

  it('threshold and on_error decide the verdict', () => {
    assert.equal(reason(judgeVerdict(judge, { grade: 7 })), 'pass');
    assert.equal(reason(judgeVerdict(judge, { grade: 6 })), 'judge_score');
    assert.equal(reason(judgeVerdict(judge, { error: 'down' })), 'judge_error');
    assert.equal(reason(judgeVerdict({ ...judge, on_error: 'accept' }, { error: 'down' })), 'pass');
  });

  it('the judge request is a fixed prompt with the question and the cut answer', () => {
    const req = judgeRequest({ ...judge, max_answer_chars: 200 }, 'What is 2+2?', 'x'.repeat(500));
    const messages = req.messages as Array<{ role: string; content: string }>;
    assert.equal(req.model, 'grader');
    assert.equal(messages[0]!.role, 'system');
    assert.match(messages[1]!.content, /QUESTION:\nWhat is 2\+2\?/);
    assert.ok(messages[1]!.content.length < 400);
  });
});

describe('composed checks', () => {
  it('runs cheapest first and stops at the first failure; the judge only when the rest passed', async () => {
    const spec = checksSchema.parse({ min_length: 10, refusal: true, judge: { provider: 'p', model: 'm' } });
    const c = compileChecks(spec);
    assert.equal(compileChecks(spec), c, 'compiled once per spec');
    let judged = 0;
    const env = { schema: undefined, judge: async () => (judged++, { grade: 9 }) };
    assert.equal(reason(await runChecks(answer('short'), c, env)), 'too_short');
    assert.equal(reason(await runChecks(answer("I'm sorry, but I can't help with that."), c, env)), 'refusal');
    assert.equal(judged, 0);
    assert.equal(reason(await runChecks(answer('A complete and useful answer.'), c, env)), 'pass');
    assert.equal(judged, 1);
    assert.equal(reason(await runChecks(answer('A complete and useful answer.'), c, { schema: undefined, judge: async () => ({ grade: 2 }) })), 'judge_score');
  });

  it('content checks do not apply to tool calls; the token limit does', () => {
    const c = compileChecks(checksSchema.parse({ min_length: 10, json: true, finish_length: true }));
    assert.equal(reason(runLocalChecks(answer('', { toolCalls: true }), c, { schema: undefined })), 'pass');
    assert.equal(reason(runLocalChecks(answer('', { toolCalls: true, finishReason: 'length' }), c, { schema: undefined })), 'truncated');
  });

  it('config rejects bad patterns and empty logprob thresholds', () => {
    assert.equal(checksSchema.safeParse({ must_match: ['(unclosed'] }).success, false);
    assert.equal(checksSchema.safeParse({ logprobs: {} }).success, false);
    assert.equal(checksSchema.safeParse({ unknown_check: true }).success, false);
  });
});
