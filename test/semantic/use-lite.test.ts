import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dot } from '../../src/semantic/embedder/types.js';
import { tokenBudgetCalls, UseLiteEmbedder } from '../../src/semantic/embedder/use-lite.js';

let e: UseLiteEmbedder;
before(async () => {
  e = await UseLiteEmbedder.load();
});
after(() => e.close());

test('512-d unit vectors; paraphrases are closer than unrelated text', async () => {
  const [a, b, c] = await e.embed(['How do I reset my password?', 'I forgot my password, help me reset it', 'What is the capital of France?']);
  assert.equal(e.dim, 512);
  for (const v of [a, b, c]) assert.ok(Math.abs(dot(v, v) - 1) < 1e-4);
  assert.ok(dot(a, b) > 0.7, `paraphrase ${dot(a, b)}`);
  assert.ok(dot(a, c) < 0.4, `unrelated ${dot(a, c)}`);
});

test('a batch gives the same vectors as single calls, in order; empty text still embeds', async () => {
  const texts = ['short', 'a somewhat longer sentence about the weather in Lisbon', ''];
  const batch = await e.embed(texts);
  for (let i = 0; i < texts.length; i++) {
    const [single] = await e.embed([texts[i]]);
    assert.ok(dot(batch[i], single) > 0.9999, `row ${i}`);
  }
});

test('the onnx runtime (the default) at float precision gives the same vectors as TF.js', async () => {
  assert.equal(e.runtime, 'onnx');
  const [onnx, tfjs] = await Promise.all([UseLiteEmbedder.load({ precision: 'float32' }), UseLiteEmbedder.load({ runtime: 'tfjs' })]);
  try {
    assert.equal(onnx.runtime, 'onnx');
    assert.equal(tfjs.runtime, 'tfjs');
    const texts = ['How do I reset my password?', 'Quelle heure est-il à Paris ?', 'a', 'the quick brown fox jumps over the lazy dog '.repeat(8)];
    const [x, y] = await Promise.all([onnx.embed(texts), tfjs.embed(texts)]);
    for (let i = 0; i < texts.length; i++) assert.ok(dot(x[i], y[i]) > 0.99999, `row ${i}: ${dot(x[i], y[i])}`);
  } finally {
    await Promise.all([onnx.close(), tfjs.close()]);
  }
});

test('the tokenizer uses the packaged vocabulary (known pieces)', () => {
  const ids = e.tokenize('the');
  assert.deepEqual(ids, [9]); // "▁the" is id 9 in the USE-lite vocabulary
  assert.ok(e.tokenize('x'.repeat(5000)).length <= 256);
});

test('tokenBudgetCalls: calls of at most the budget in padded tokens, shortest rows first, every row once', () => {
  const lengths = [120, 3, 40, 5, 300, 8, 40];
  const calls = tokenBudgetCalls(lengths, 100);
  assert.deepEqual(calls, [[1, 3, 5], [2, 6], [0], [4]]);
  for (const call of calls) {
    const padded = call.length * Math.max(...call.map((i) => lengths[i]));
    assert.ok(call.length === 1 || padded <= 100, `call ${call} holds ${padded} padded tokens`);
  }
  assert.deepEqual(calls.flat().sort((a, b) => a - b), lengths.map((_, i) => i));
  assert.deepEqual(tokenBudgetCalls(lengths, Infinity), [[1, 3, 5, 2, 6, 0, 4]]);
  assert.deepEqual(tokenBudgetCalls([], 100), []);
});

test('a batch split by the token budget gives the same vectors, in input order, as one call', async () => {
  const small = await UseLiteEmbedder.load({ maxBatchTokens: 256 });
  try {
    const texts = ['the quick brown fox jumps over the lazy dog '.repeat(12), 'short', '', 'a somewhat longer sentence about the weather in Lisbon'];
    assert.ok(small.tokenize(texts[0]).length * 2 > 256, 'the long text shares no call');
    const [split, whole] = await Promise.all([small.embed(texts), e.embed(texts)]);
    assert.equal(split.length, texts.length);
    for (let i = 0; i < texts.length; i++) assert.ok(dot(split[i], whole[i]) > 0.9999, `row ${i}: ${dot(split[i], whole[i])}`);
  } finally {
    await small.close();
  }
});
