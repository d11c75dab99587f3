import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dot } from '../../src/semantic/embedder/types.js';
import { UseLiteEmbedder } from '../../src/semantic/embedder/use-lite.js';

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
