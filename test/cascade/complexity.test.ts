import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateComplexity, LIST_ITEM, MATH } from '../../src/cascade/complexity.js';
import { ANONYMOUS, type RequestContext } from '../../src/pipeline/context.js';
import { buildVariables } from '../../src/rules/variables.js';

const chat = (content: string, turns = 1) => ({
  messages: Array.from({ length: turns }, (_, i) => ({ role: 'user', content: i === turns - 1 ? content : 'earlier turn' })),
});

describe('complexity estimate', () => {
  it('short factual questions are simple', () => {
    for (const q of ['What is the capital of France?', 'hi', 'Translate "good morning" into Spanish.', 'Who wrote Hamlet?']) {
      const c = estimateComplexity(chat(q));
      assert.equal(c.band, 'simple', `${q}: ${c.score}`);
    }
  });

  it('code, math and multi-part reasoning raise the score', () => {
    const code = estimateComplexity(chat('Implement a Python function that parses a CSV file and returns JSON; handle quoted fields and write unit tests.'));
    const math = estimateComplexity(chat('Prove that the sum of the first n odd numbers is n^2, then derive a closed form for 1^2 + 2^2 + ... + n^2.'));
    const design = estimateComplexity(chat(`Design a rate limiter for a distributed API. Compare token bucket and sliding window approaches, explain the trade-offs, and justify your choice.
1. Requirements
2. Architecture
3. Failure modes
4. Testing strategy
What would change at 10x traffic? How would you monitor it?`));
    for (const c of [code, math, design]) assert.notEqual(c.band, 'simple', JSON.stringify(c));
    assert.equal(design.band, 'complex', JSON.stringify(design));
    assert.ok(code.score > estimateComplexity(chat('What time is it in Tokyo?')).score);
  });

  it('scores are in 0..1 and deterministic', () => {
    const long = estimateComplexity(chat('why? '.repeat(5000), 9));
    assert.ok(long.score <= 1 && long.score >= 0.6);
    assert.deepEqual(estimateComplexity(chat('abc')), estimateComplexity(chat('abc')));
  });

  it('a known intent\'s tier metadata decides the band', () => {
    const facts = (tier: string) => ({ intent: 'x', score: 0.9, margin: 0.2, ready: true, metadata: { tier } });
    assert.equal(estimateComplexity(chat('What is 2+2?'), facts('complex')).band, 'complex');
    const hard = 'Design and implement a distributed consensus algorithm in Rust; prove its safety and explain the trade-offs. Why? How?';
    assert.equal(estimateComplexity(chat(hard), facts('simple')).band, 'simple');
    assert.equal(estimateComplexity(chat(hard), facts('moderate')).band, 'moderate');
    assert.equal(estimateComplexity(chat('What is 2+2?'), { intent: 'x', score: 0.9, margin: 0.2, ready: true }).band, 'simple');
  });

  it('reads text completions too', () => {
    assert.equal(estimateComplexity({ prompt: 'Hello' }).band, 'simple');
  });
});

describe('complexity variables', () => {
  const ctx = (content: string): RequestContext => ({
    id: 't', startedAt: 0, op: 'chat', protocol: 'openai.chat', requestType: 'chat_completion', body: chat(content), model: 'm', stream: false, headers: {},
    caller: ANONYMOUS, signal: new AbortController().signal, attempts: [], warnings: [], replyHeaders: {}, facts: {},
  });

  it('are filled only when referenced, and use the intent only when it is loaded anyway', async () => {
    let classified = 0;
    const inputs = { semantic: async () => (classified++, { intent: 'math', score: 0.8, margin: 0.3, ready: true, metadata: { tier: 'complex' } }) };
    const none = await buildVariables(ctx('What is 2+2?'), inputs, new Set(['model']));
    assert.equal('complexity' in none, false);
    const textOnly = await buildVariables(ctx('What is 2+2?'), inputs, new Set(['complexity', 'complexity_score']));
    assert.equal(textOnly.complexity, 'simple');
    assert.equal(classified, 0, 'no embedding for complexity alone');
    const withIntent = await buildVariables(ctx('What is 2+2?'), inputs, new Set(['complexity', 'intent']));
    assert.equal(withIntent.complexity, 'complex');
    assert.equal(classified, 1);
  });
});

describe('complexity patterns on long runs', () => {
  const count = (re: RegExp, text: string): number => {
    re.lastIndex = 0;
    let n = 0;
    while (re.exec(text) !== null) n++;
    re.lastIndex = 0;
    return n;
  };

  it('read a run of blank lines or digits once: 200 000 characters are scanned at once', () => {
    // Read again from each line start or digit, such a run took the list and arithmetic patterns about a minute.
    const started = Date.now();
    for (const run of ['\n', ' \n', '\r\n', '\u2028'].map((b) => b.repeat(100_000))) assert.equal(count(LIST_ITEM, run), 0);
    for (const run of ['1', '1 '].map((d) => d.repeat(100_000))) assert.equal(count(MATH, run), 0);
    assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
  });

  it('count the same items and expressions as before', () => {
    assert.equal(count(LIST_ITEM, '1. a\n\n  \n  2) b\n- c\n\t* d\n• e\nx - f'), 5);
    assert.equal(count(LIST_ITEM, '1. \n  2. x'), 1, 'a marker whose indentation the item before took is not counted');
    assert.equal(count(MATH, 'what is 12 + 30, then 1234^2 and 7=7?'), 3);
    assert.equal(estimateComplexity(chat('\n'.repeat(8000))).signals.structure, 0);
  });
});
