import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TransformersEmbedder } from '../../src/semantic/embedder/transformers.js';
import { l2normalize } from '../../src/semantic/embedder/types.js';
import { writeTinyModel, type TinyModel } from './fixtures/tiny-model.js';

let modelsDir: string;
let model: TinyModel;
const WORDS = ['hello', 'world', 'reset', 'pass', '##word', 'please'];

before(async () => {
  modelsDir = await mkdtemp(path.join(os.tmpdir(), 'models-'));
  model = await writeTinyModel(modelsDir, 'tiny-bert', WORDS, 8, 6);
});
after(() => rm(modelsDir, { recursive: true, force: true }));

const id = (tok: string) => model.vocab.indexOf(tok);
/** The expected vector: the normalised mean (or first row) of the table rows of these tokens. */
function expected(tokens: string[], pooling: 'mean' | 'cls'): Float32Array {
  const rows = pooling === 'cls' ? [tokens[0]] : tokens;
  const v = new Float32Array(model.dim);
  for (const t of rows) model.table[id(t)].forEach((x, d) => (v[d] += x / rows.length));
  return l2normalize(v);
}
const close = (a: Float32Array, b: Float32Array) => a.every((x, i) => Math.abs(x - b[i]) < 1e-5);

test('tokenises with WordPiece, runs the ONNX graph, mean-pools over the mask and normalises', async () => {
  const e = await TransformersEmbedder.load({ model: 'tiny-bert', modelsDir, allowRemote: false, pooling: 'mean', quantized: true });
  try {
    assert.equal(e.dim, 8);
    // Different lengths in one batch: the padded positions must not count.
    const [a, b] = await e.embed(['Hello world', 'reset password']);
    assert.ok(close(a, expected(['[CLS]', 'hello', 'world', '[SEP]'], 'mean')));
    assert.ok(close(b, expected(['[CLS]', 'reset', 'pass', '##word', '[SEP]'], 'mean')));
    // model_max_length is 6: longer input keeps its first 6 tokens (transformers.js truncates after adding [CLS]/[SEP]).
    const [long] = await e.embed(['hello world please hello world please']);
    assert.ok(close(long, expected(['[CLS]', 'hello', 'world', 'please', 'hello', 'world'], 'mean')));
  } finally {
    await e.close();
  }
});

test('CLS pooling takes the first token', async () => {
  const e = await TransformersEmbedder.load({ model: 'tiny-bert', modelsDir, allowRemote: false, pooling: 'cls', quantized: false });
  try {
    const [v] = await e.embed(['hello']);
    assert.ok(close(v, expected(['[CLS]'], 'cls')));
  } finally {
    await e.close();
  }
});

test('a model folder with missing files fails naming them and how to provide them', async () => {
  const broken = await writeTinyModel(modelsDir, 'broken', WORDS);
  await unlink(path.join(broken.dir, 'tokenizer.json'));
  await unlink(path.join(broken.dir, 'onnx', 'model.onnx'));
  await assert.rejects(
    TransformersEmbedder.load({ model: 'broken', modelsDir, allowRemote: false, pooling: 'mean', quantized: true }),
    (err: Error) => /tokenizer\.json/.test(err.message) && /onnx\/model\.onnx/.test(err.message) && /models\/README\.md/.test(err.message),
  );
  await assert.rejects(
    TransformersEmbedder.load({ model: 'absent', modelsDir, allowRemote: false, pooling: 'mean', quantized: true }),
    /config\.json/,
  );
});
