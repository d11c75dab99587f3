import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { DEFAULT_PAIR_MODEL } from '../../src/cache/pair-weights.js';
import { EmbeddingStore } from '../../src/semantic/catalog/embedding-store.js';
import { defaultSemanticConfig } from '../../src/semantic/config.js';
import { createBackend, createEmbedder } from '../../src/semantic/embedder/index.js';
import { encodeModel, OnnxType } from '../../src/semantic/embedder/onnx-proto.js';
import { quantizeColumns, quantizeMatMuls, storageFor, weightStorageHere, type WeightStorage } from '../../src/semantic/embedder/quantize.js';
import { convertTfGraph, type TfNode, type TfWeight } from '../../src/semantic/embedder/tf-to-onnx.js';
import { dot } from '../../src/semantic/embedder/types.js';
import { UseLiteEmbedder } from '../../src/semantic/embedder/use-lite.js';

/** A TF graph y = relu(x · W) for x [rows, 3, 8] and a constant W [8, 6] of mixed-magnitude columns. */
function smallGraph() {
  const w = Float32Array.from({ length: 48 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 6)));
  const weights = new Map<string, TfWeight>([['w', { shape: [8, 6], dtype: 'float32', data: w }]]);
  const nodes: TfNode[] = [
    { name: 'x', op: 'Placeholder' }, { name: 'w', op: 'Const' },
    { name: 'mm', op: 'BatchMatMulV2', input: ['x', 'w'] }, { name: 'y', op: 'Relu', input: ['mm'] },
  ];
  return convertTfGraph(nodes, weights, {
    inputs: [{ name: 'x', elemType: OnnxType.FLOAT, shape: ['rows', 3, 8] }],
    outputs: [{ name: 'y', elemType: OnnxType.FLOAT, shape: ['rows', 3, 6] }],
  });
}

test('per-column int8 weights: each column uses the full range and rounds back within half a step', () => {
  const w = Float32Array.from([0.5, -40, 0.25, 10, -1, 20]); // [3 rows, 2 cols]
  const { q, scale } = quantizeColumns(w, 3, 2);
  assert.deepEqual(Array.from(scale), [1 / 127, 40 / 127].map(Math.fround));
  assert.equal(Math.max(...Array.from(q, Math.abs)), 127);
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(q[i] * scale[i % 2] - w[i]) <= scale[i % 2] / 2 + 1e-6, `entry ${i}`);
});

test('the quantised graph is valid ONNX, stores the weight in one byte and matches the float graph closely', async () => {
  const float = smallGraph();
  const int8 = quantizeMatMuls(float);
  assert.ok(int8.nodes.some((n) => n.opType === 'MatMulInteger'));
  assert.ok(!int8.nodes.some((n) => n.opType === 'MatMul'));
  assert.deepEqual(int8.initializers.filter((t) => t.dataType === OnnxType.FLOAT && t.dims.length === 2), []);
  // Stored as uint8 around the zero point 128 (the int8 value + 128), for the uint8 × uint8 kernels: exact on every processor.
  const stored = int8.initializers.find((t) => t.dataType === OnnxType.UINT8 && t.dims.length === 2);
  assert.equal(stored?.rawData.byteLength, 48);
  const w0 = float.initializers.find((t) => t.name === 'w')!;
  const { q } = quantizeColumns(new Float32Array(w0.rawData.slice().buffer), 8, 6);
  assert.deepEqual(Array.from(stored!.rawData), Array.from(q, (v) => v + 128));
  assert.ok(int8.initializers.every((t) => t.dataType !== OnnxType.INT8), 'no uint8 × int8 product is left');

  const x = Float32Array.from({ length: 2 * 3 * 8 }, (_, i) => Math.cos(i * 0.9) * (i < 24 ? 1 : 50));
  const run = async (g: typeof float, input: Float32Array, rows: number) => {
    const s = await ort.InferenceSession.create(encodeModel(g, 'test'), { logSeverityLevel: 3 });
    try {
      return (await s.run({ x: new ort.Tensor('float32', input, [rows, 3, 8]) })).y.data as Float32Array;
    } finally {
      await s.release();
    }
  };
  const [ref, got] = await Promise.all([run(float, x, 2), run(int8, x, 2)]);
  // Each output is off by at most what rounding both operands allows: half a weight step (the column's max / 127) times
  // |x|, plus half an activation step (the token's max |x| / 127) times |w|, summed over the inner dimension.
  const w = float.initializers.find((t) => t.name === 'w')!;
  const wf = new Float32Array(w.rawData.slice().buffer);
  const wStep = Array.from({ length: 6 }, (_, c) => Math.max(...Array.from({ length: 8 }, (_, k) => Math.abs(wf[k * 6 + c]))) / 127);
  for (let token = 0; token < 6; token++) {
    const xs = x.slice(token * 8, token * 8 + 8);
    const xStep = Math.max(...Array.from(xs, Math.abs)) / 127;
    for (let c = 0; c < 6; c++) {
      let bound = 1e-4;
      for (let k = 0; k < 8; k++) bound += (Math.abs(xs[k]) * wStep[c] + xStep * Math.abs(wf[k * 6 + c]) + (xStep * wStep[c]) / 2) / 2;
      const i = token * 6 + c;
      assert.ok(Math.abs(got[i] - ref[i]) <= bound, `output ${i}: ${got[i]} vs ${ref[i]} (bound ${bound})`);
    }
  }
  // Activations are scaled per row, so the small-valued first row is not coarsened by the large second one.
  const alone = await run(int8, x.slice(0, 24), 1);
  assert.deepEqual(Array.from(alone), Array.from(got.slice(0, 18)));
});

/** y = x · W for x = 1 everywhere and w = n + 1 down column n, with the weights stored as given. */
async function onesProduct(storage: WeightStorage): Promise<{ y: Float32Array; K: number; N: number }> {
  // x = 1 quantises to 255 (127 above the zero point), w = n + 1 down column n to 127: each pair of byte products is
  // 2 × 255 × 127 = 64,770, which a kernel adding pairs into 16 bits with saturation clips to 32,767.
  const K = 64;
  const N = 4;
  const weights = new Map<string, TfWeight>([['w', { shape: [K, N], dtype: 'float32', data: Float32Array.from({ length: K * N }, (_, i) => 1 + (i % N)) }]]);
  const nodes: TfNode[] = [{ name: 'x', op: 'Placeholder' }, { name: 'w', op: 'Const' }, { name: 'y', op: 'BatchMatMulV2', input: ['x', 'w'] }];
  const graph = quantizeMatMuls(convertTfGraph(nodes, weights, {
    inputs: [{ name: 'x', elemType: OnnxType.FLOAT, shape: ['rows', 1, K] }],
    outputs: [{ name: 'y', elemType: OnnxType.FLOAT, shape: ['rows', 1, N] }],
  }), storage);
  const s = await ort.InferenceSession.create(encodeModel(graph, 'test'), { logSeverityLevel: 3 });
  try {
    return { y: (await s.run({ x: new ort.Tensor('float32', new Float32Array(K).fill(1), [1, 1, K]) })).y.data as Float32Array, K, N };
  } finally {
    await s.release();
  }
}

test('the integer products are exact where pairs of byte products pass 16 bits: uint8 weights everywhere, and the storage this processor gets', async () => {
  for (const storage of new Set<WeightStorage>(['uint8', weightStorageHere()])) {
    const { y, K, N } = await onesProduct(storage);
    for (let n = 0; n < N; n++) assert.ok(Math.abs(y[n] - K * (n + 1)) < 1e-3 * K * (n + 1), `${storage} column ${n}: ${y[n]}, exactly ${K * (n + 1)}`);
  }
});

test('int8 weights only where the processor adds byte products into 32 bits (VNNI); uint8 elsewhere', () => {
  const avx2 = 'fpu sse sse2 avx avx2 fma bmi2';
  assert.equal(storageFor('x64', avx2), 'uint8');
  assert.equal(storageFor('x64', `${avx2} avx512f avx512bw avx512_vnni avx512_bf16`), 'int8');
  assert.equal(storageFor('x64', `${avx2} avx_vnni`), 'int8');
  assert.equal(storageFor('x64', `${avx2} avx_vnni_int8`), 'uint8', 'a flag that merely starts alike');
  assert.equal(storageFor('arm64', 'fp asimd asimddp'), 'uint8');
  assert.equal(storageFor('x64', undefined), 'uint8', 'unknown: the storage exact everywhere');
});

let float: UseLiteEmbedder;
let int8: UseLiteEmbedder;
before(async () => {
  [float, int8] = await Promise.all([
    UseLiteEmbedder.load({ runtime: 'onnx', precision: 'float32' }),
    UseLiteEmbedder.load({ runtime: 'onnx', precision: 'int8' }),
  ]);
});
after(() => Promise.all([float.close(), int8.close()]));

const SENTENCES = [
  'How do I reset my password?', 'what is the weather going to be like in Lisbon tomorrow', 'Play some relaxing jazz',
  'Write a Python function that merges two sorted lists', 'Summarise this contract clause about termination fees',
  'Quelle heure est-il à Paris ?', 'my card was declined at the supermarket, why?', 'a',
  'Translate "good morning" into German', 'the quick brown fox jumps over the lazy dog '.repeat(6),
];

test('int8 vectors are within cosine 0.995 of the float ones on real sentences, and keep their neighbours', async () => {
  const [f, q] = await Promise.all([float.embed(SENTENCES), int8.embed(SENTENCES)]);
  for (let i = 0; i < SENTENCES.length; i++) {
    assert.ok(Math.abs(dot(q[i], q[i]) - 1) < 1e-4, `row ${i} is unit length`);
    assert.ok(dot(f[i], q[i]) > 0.995, `row ${i}: cosine ${dot(f[i], q[i])}`);
  }
  // Similarities between sentences move by little more than rounding: what a threshold sees is preserved.
  for (let i = 0; i < SENTENCES.length; i++) {
    for (let j = i + 1; j < SENTENCES.length; j++) assert.ok(Math.abs(dot(f[i], f[j]) - dot(q[i], q[j])) < 0.02, `pair ${i},${j}`);
  }
});

test('an int8 vector does not depend on the texts batched with it', async () => {
  const batch = await int8.embed(SENTENCES);
  for (let i = 0; i < SENTENCES.length; i++) {
    const [alone] = await int8.embed([SENTENCES[i]]);
    assert.ok(dot(alone, batch[i]) > 0.99999, `row ${i}: ${dot(alone, batch[i])}`);
  }
});

test('the variants have their own ids (so their own embedding-store files) and share one vector space', () => {
  assert.equal(float.id, 'use-lite-512@0.2.0');
  assert.equal(int8.id, 'use-lite-512-int8u@0.2.0');
  assert.equal(int8.space, float.id);
  assert.equal(float.space, float.id);
  // The shipped cache models (fitted on float similarities) stay in use with the int8 default.
  assert.equal(DEFAULT_PAIR_MODEL.embedder, int8.space);
  const dir = os.tmpdir();
  assert.notEqual(new EmbeddingStore(dir, int8.id, 512).file, new EmbeddingStore(dir, float.id, 512).file);
});

test('semantic.embedder.quantized picks the variant: int8 by default, float when false; tfjs always runs float', async () => {
  const config = defaultSemanticConfig().embedder;
  assert.equal(config.quantized, true);
  // The gateway's embedder (worker threads behind the batching layer) reports the variant's id and the shared space.
  const served = await createEmbedder({ ...config, concurrency: 1 }, process.cwd());
  try {
    assert.equal(served.id, 'use-lite-512-int8u@0.2.0');
    assert.equal(served.space, 'use-lite-512@0.2.0');
  } finally {
    await served.close();
  }
  const off = await createBackend({ ...config, quantized: false, runtime: 'onnx' }, process.cwd());
  try {
    assert.equal(off.id, 'use-lite-512@0.2.0');
  } finally {
    await off.close();
  }
  const tfjs = await UseLiteEmbedder.load({ runtime: 'tfjs', precision: 'int8' });
  try {
    assert.equal(tfjs.precision, 'float32');
    assert.equal(tfjs.id, 'use-lite-512@0.2.0');
  } finally {
    await tfjs.close();
  }
});
