import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { encodeModel, OnnxType } from '../../src/semantic/embedder/onnx-proto.js';
import { convertTfGraph, type TfNode, type TfWeight } from '../../src/semantic/embedder/tf-to-onnx.js';

const int32 = (values: number[], shape = [values.length]): TfWeight => ({ shape, dtype: 'int32', data: Int32Array.from(values) });

test('a small TF graph (StridedSlice with masks, Pack, 1x1 Conv2D, Sum) converts and runs with TF semantics', async () => {
  // x: [2, 3] float. y = StridedSlice(x, [0, 1], [0, 0], [1, 1], begin_mask=1, end_mask=3) -> x[:, 1:]
  // s = StridedSlice(x, [-1, 0], [0, 0], [1, 1], shrink_axis_mask=1, end_mask=2) -> x[-1, :]
  // c = Conv2D(reshape(x, [1, 2, 1, 3]), k[1,1,3,2]) summed over axis 3 -> per-row dot products with k's columns
  const weights = new Map<string, TfWeight>([
    ['b1', int32([0, 1])], ['e1', int32([0, 0])], ['st', int32([1, 1])],
    ['b2', int32([-1, 0])], ['shape4', int32([1, 2, 1, 3])], ['axis3', int32([3])],
    ['k', { shape: [1, 1, 3, 2], dtype: 'float32', data: Float32Array.from([1, 0, 0, 1, 1, 1]) }],
  ]);
  const nodes: TfNode[] = [
    { name: 'x', op: 'Placeholder' },
    ...['b1', 'e1', 'st', 'b2', 'shape4', 'axis3', 'k'].map((name) => ({ name, op: 'Const' })),
    { name: 'y', op: 'StridedSlice', input: ['x', 'b1', 'e1', 'st'], attr: { begin_mask: { i: '1' }, end_mask: { i: '3' } } },
    { name: 's', op: 'StridedSlice', input: ['x', 'b2', 'e1', 'st'], attr: { shrink_axis_mask: { i: '1' }, end_mask: { i: '2' } } },
    { name: 'x4', op: 'Reshape', input: ['x', 'shape4'] },
    { name: 'conv', op: 'Conv2D', input: ['x4', 'k'], attr: { data_format: { s: [78, 72, 87, 67] } } },
    { name: 'c', op: 'Sum', input: ['conv', 'axis3'], attr: { keep_dims: { b: false } } },
    { name: 'p', op: 'Pack', input: ['s', 's'], attr: { axis: { i: '0' } } },
  ];
  const graph = convertTfGraph(nodes, weights, {
    inputs: [{ name: 'x', elemType: OnnxType.FLOAT, shape: [2, 3] }],
    outputs: ['y', 's', 'c', 'p'].map((name) => ({ name, elemType: OnnxType.FLOAT, shape: [] })),
  });
  const session = await ort.InferenceSession.create(encodeModel(graph, 'test'), { logSeverityLevel: 3 });
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]) });
  assert.deepEqual(Array.from(out.y.data as Float32Array), [2, 3, 5, 6]);
  assert.deepEqual(out.y.dims, [2, 2]);
  assert.deepEqual(Array.from(out.s.data as Float32Array), [4, 5, 6]);
  assert.deepEqual(out.s.dims, [3]);
  // Row [1,2,3] times k (columns [1,0,1] and [0,1,1]) = [4, 5], summed = 9; row [4,5,6] -> [10, 11] -> 21.
  assert.deepEqual(Array.from(out.c.data as Float32Array), [9, 21]);
  assert.deepEqual(out.p.dims, [2, 3]);
  await session.release();
});

test('an op without a conversion fails naming the node and the op', () => {
  assert.throws(
    () => convertTfGraph([{ name: 'x', op: 'Placeholder' }, { name: 'fft', op: 'FFT', input: ['x'] }], new Map(), { inputs: [], outputs: [] }),
    /fft: TF op FFT has no ONNX conversion/,
  );
});
