/**
 * Converts a TensorFlow.js graph model (model.json topology + weights) into an ONNX graph, so that onnxruntime's native CPU
 * kernels can run it. Covers the ops of the Universal Sentence Encoder Lite graph (a two-layer transformer with its
 * sparse-input plumbing); any other op fails the conversion with its name, and the caller falls back to TF.js.
 *
 * Type policy: every TF integer tensor (int32 or int64) becomes int64 in ONNX — ONNX wants int64 for shapes and indices,
 * and the values involved (token ids, positions, shape entries) fit either way.
 */
import { AttrType, OnnxType, type GraphSpec, type NodeProto, type OnnxElemType, type TensorProto, type ValueInfo } from './onnx-proto.js';

interface TfAttr {
  i?: string;
  b?: boolean;
  type?: number | string;
  list?: { i?: string[] };
  /** Bytes of a string attribute: base64 text or a list of byte values, depending on the exporter. */
  s?: string | number[];
}

export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

export interface TfWeight {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const OPSET = 17;

/** TF DataType enum → ONNX element type (integers widen to int64). */
function onnxTypeOf(tfType: number | string | undefined, node: string): OnnxElemType {
  switch (tfType) {
    case 1: case 'DT_FLOAT': return OnnxType.FLOAT;
    case 3: case 9: case 'DT_INT32': case 'DT_INT64': return OnnxType.INT64;
    case 10: case 'DT_BOOL': return OnnxType.BOOL;
    default: throw new Error(`${node}: unsupported tensor type ${String(tfType)}`);
  }
}

const int = (a: TfAttr | undefined): number => Number(a?.i ?? 0);
const text = (a: TfAttr | undefined, fallback: string): string =>
  a?.s === undefined ? fallback : typeof a.s === 'string' ? Buffer.from(a.s, 'base64').toString() : String.fromCharCode(...a.s);
const flag = (a: TfAttr | undefined): boolean => a?.b === true;
/** A TF input reference ("node", "node:1") as an ONNX value name; output 0 keeps the bare node name. */
const ref = (input: string): string => input.endsWith(':0') ? input.slice(0, -2) : input;

class Builder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly consts = new Map<string, TfWeight>();
  private counter = 0;

  constructor(weights: Map<string, TfWeight>) {
    for (const [name, w] of weights) {
      this.consts.set(name, w);
      this.initializers.push(w.dtype === 'float32'
        ? { name, dims: w.shape, dataType: OnnxType.FLOAT, rawData: bytes(w.data) }
        : int64Tensor(name, Array.from(w.data), w.shape));
    }
  }

  /** Integer values of a constant input (its shape flattened). */
  ints(input: string, node: string): number[] {
    const w = this.consts.get(ref(input));
    if (w === undefined) throw new Error(`${node}: input ${input} must be a constant`);
    return Array.from(w.data, Number);
  }

  weight(input: string): TfWeight | undefined { return this.consts.get(ref(input)); }

  /** A float constant with new dims over the same data (a reshape done at conversion time); returns its name. */
  reshapedConst(input: string, dims: number[]): string {
    const w = this.consts.get(ref(input));
    if (w === undefined || w.dtype !== 'float32') throw new Error(`${input}: not a float constant`);
    const name = `${ref(input)}/__${dims.join('x')}`;
    this.initializers.push({ name, dims, dataType: OnnxType.FLOAT, rawData: bytes(w.data) });
    return name;
  }

  /** A new int64 constant; returns its name. */
  int64(values: Array<number | bigint>, dims: number[] = [values.length]): string {
    const name = `__const_${this.counter++}`;
    this.initializers.push(int64Tensor(name, values, dims));
    return name;
  }

  add(opType: string, input: string[], output: string | string[], attribute?: NodeProto['attribute']): string {
    const outputs = Array.isArray(output) ? output : [output];
    this.nodes.push({ name: `${outputs[0]}#${this.nodes.length}`, opType, input, output: outputs, ...(attribute ? { attribute } : {}) });
    return outputs[0];
  }

  temp(base: string): string { return `${base}/__${this.counter++}`; }
}

function bytes(a: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function int64Tensor(name: string, values: ArrayLike<number | bigint>, dims: number[]): TensorProto {
  const data = BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  return { name, dims, dataType: OnnxType.INT64, rawData: bytes(data) };
}

const intsAttr = (name: string, ints: number[]) => ({ name, type: AttrType.INTS, ints });
const intAttr = (name: string, i: number) => ({ name, type: AttrType.INT, i });

const SIMPLE: Record<string, string> = {
  Add: 'Add', AddV2: 'Add', BiasAdd: 'Add', Sub: 'Sub', Mul: 'Mul', RealDiv: 'Div', Maximum: 'Max',
  Less: 'Less', Greater: 'Greater', LogicalNot: 'Not', Sin: 'Sin', Cos: 'Cos', Tanh: 'Tanh', Relu: 'Relu',
  Softmax: 'Softmax', Shape: 'Shape', Reshape: 'Reshape', GatherNd: 'GatherND', Range: 'Range', Identity: 'Identity',
};

function convertNode(b: Builder, n: TfNode): void {
  const ins = (n.input ?? []).filter((i) => !i.startsWith('^')).map(ref);
  const out = n.name;
  const a = n.attr ?? {};
  const simple = SIMPLE[n.op];
  if (simple !== undefined) {
    if (n.op === 'BiasAdd' && text(a.data_format, 'NHWC') !== 'NHWC') {
      throw new Error(`${n.name}: BiasAdd supports NHWC only`);
    }
    b.add(simple, ins, out);
    return;
  }
  switch (n.op) {
    case 'Square': b.add('Mul', [ins[0], ins[0]], out); return;
    case 'Rsqrt': b.add('Reciprocal', [b.add('Sqrt', [ins[0]], b.temp(out))], out); return;
    case 'Cast': b.add('Cast', [ins[0]], out, [intAttr('to', onnxTypeOf(a.DstT?.type, n.name))]); return;
    case 'Where':
      if (ins.length !== 1) throw new Error(`${n.name}: only the one-input form of Where is supported`);
      b.add('Transpose', [b.add('NonZero', [ins[0]], b.temp(out))], out, [intsAttr('perm', [1, 0])]);
      return;
    case 'GatherV2':
      if (int(a.batch_dims) !== 0) throw new Error(`${n.name}: GatherV2 with batch_dims is not supported`);
      b.add('Gather', [ins[0], ins[1]], out, [intAttr('axis', b.ints(ins[2], n.name)[0])]);
      return;
    case 'Max': case 'Mean': case 'Prod': {
      const op = { Max: 'ReduceMax', Mean: 'ReduceMean', Prod: 'ReduceProd' }[n.op];
      b.add(op, [ins[0]], out, [intsAttr('axes', b.ints(ins[1], n.name)), intAttr('keepdims', flag(a.keep_dims) ? 1 : 0)]);
      return;
    }
    case 'Sum':
      b.add('ReduceSum', [ins[0], b.int64(b.ints(ins[1], n.name))], out, [intAttr('keepdims', flag(a.keep_dims) ? 1 : 0)]);
      return;
    case 'ConcatV2':
      b.add('Concat', ins.slice(0, -1), out, [intAttr('axis', b.ints(ins[ins.length - 1], n.name)[0])]);
      return;
    case 'ExpandDims': b.add('Unsqueeze', [ins[0], b.int64(b.ints(ins[1], n.name))], out); return;
    case 'Squeeze': {
      const axes = (a.squeeze_dims?.list?.i ?? []).map(Number);
      b.add('Squeeze', axes.length > 0 ? [ins[0], b.int64(axes)] : [ins[0]], out);
      return;
    }
    case 'Pack': {
      const axis = int(a.axis);
      const parts = ins.map((x) => b.add('Unsqueeze', [x, b.int64([axis])], b.temp(out)));
      if (parts.length === 1) b.add('Identity', parts, out);
      else b.add('Concat', parts, out, [intAttr('axis', axis)]);
      return;
    }
    case 'Transpose': b.add('Transpose', [ins[0]], out, [intsAttr('perm', b.ints(ins[1], n.name))]); return;
    case 'SparseToDense': {
      // indices, output_shape, values, default_value: fill a tensor of the output shape, then scatter the values in.
      const filled = b.add('Expand', [ins[3], ins[1]], b.temp(out));
      b.add('ScatterND', [filled, ins[0], ins[2]], out);
      return;
    }
    case 'ScatterNd': {
      // indices, updates, shape: zeros of the shape, then scatter.
      const type = onnxTypeOf(a.T?.type, n.name);
      const zero: TensorProto = type === OnnxType.FLOAT
        ? { dims: [1], dataType: OnnxType.FLOAT, rawData: bytes(new Float32Array(1)) }
        : int64Tensor('', [0], [1]);
      const zeros = b.add('ConstantOfShape', [ins[2]], b.temp(out), [{ name: 'value', type: AttrType.TENSOR, t: zero }]);
      b.add('ScatterND', [zeros, ins[0], ins[1]], out);
      return;
    }
    case 'MatMul':
      if (flag(a.transpose_a) || flag(a.transpose_b)) throw new Error(`${n.name}: transposed MatMul is not supported`);
      b.add('MatMul', ins, out);
      return;
    case 'BatchMatMul': case 'BatchMatMulV2': {
      const lhs = flag(a.adj_x) ? '...ji' : '...ij';
      const rhs = flag(a.adj_y) ? '...kj' : '...jk';
      if (lhs === '...ij' && rhs === '...jk') b.add('MatMul', ins, out);
      else b.add('Einsum', ins, out, [{ name: 'equation', type: AttrType.STRING, s: Buffer.from(`${lhs},${rhs}->...ik`) }]);
      return;
    }
    case 'Conv2D': convertPointwiseConv(b, n, ins, out); return;
    case 'StridedSlice': convertStridedSlice(b, n, ins, out); return;
    case 'Slice': {
      const begin = b.ints(ins[1], n.name);
      const size = b.ints(ins[2], n.name);
      const ends = size.map((s, i) => (s < 0 ? INT64_MAX : BigInt(begin[i] + s)));
      b.add('Slice', [ins[0], b.int64(begin), b.int64(ends), b.int64(begin.map((_, i) => i))], out);
      return;
    }
    case 'SplitV': {
      const sizes = b.ints(ins[1], n.name);
      if (sizes.some((s) => s < 0)) throw new Error(`${n.name}: SplitV with an inferred size is not supported`);
      const outputs = sizes.map((_, i) => (i === 0 ? out : `${out}:${i}`));
      b.add('Split', [ins[0], b.int64(sizes)], outputs, [intAttr('axis', b.ints(ins[2], n.name)[0])]);
      return;
    }
    default:
      throw new Error(`${n.name}: TF op ${n.op} has no ONNX conversion`);
  }
}

/** Conv2D with a 1x1 kernel, unit strides and NHWC layout is a matrix product over the channel axis. */
function convertPointwiseConv(b: Builder, n: TfNode, ins: string[], out: string): void {
  const a = n.attr ?? {};
  const kernel = b.weight(ins[1]);
  const ones = (l: TfAttr | undefined) => (l?.list?.i ?? ['1', '1', '1', '1']).every((v) => Number(v) === 1);
  const format = text(a.data_format, 'NHWC');
  if (kernel === undefined || kernel.shape.length !== 4 || kernel.shape[0] !== 1 || kernel.shape[1] !== 1 || !ones(a.strides) || !ones(a.dilations) || format !== 'NHWC') {
    throw new Error(`${n.name}: only 1x1, unit-stride NHWC Conv2D with a constant kernel is supported`);
  }
  // The kernel becomes a 2-D constant, so the MatMul's weight is an initializer (which quantisation can rewrite).
  b.add('MatMul', [ins[0], b.reshapedConst(ins[1], [kernel.shape[2], kernel.shape[3]])], out);
}

/** StridedSlice with constant begin/end/strides and begin, end and shrink-axis masks (no ellipsis or new axes). */
function convertStridedSlice(b: Builder, n: TfNode, ins: string[], out: string): void {
  const a = n.attr ?? {};
  if (int(a.ellipsis_mask) !== 0 || int(a.new_axis_mask) !== 0) throw new Error(`${n.name}: StridedSlice ellipsis/new-axis masks are not supported`);
  const begin = b.ints(ins[1], n.name), end = b.ints(ins[2], n.name), strides = b.ints(ins[3], n.name);
  const bm = int(a.begin_mask), em = int(a.end_mask), sm = int(a.shrink_axis_mask);
  const starts: bigint[] = [], ends: bigint[] = [], axes: number[] = [], steps: number[] = [], squeeze: number[] = [];
  for (let i = 0; i < begin.length; i++) {
    const bit = 1 << i;
    const step = strides[i];
    if (sm & bit) {
      starts.push(BigInt(begin[i]));
      ends.push(begin[i] === -1 ? INT64_MAX : BigInt(begin[i] + 1));
      axes.push(i); steps.push(1); squeeze.push(i);
      continue;
    }
    const s = bm & bit ? (step > 0 ? 0n : INT64_MAX) : BigInt(begin[i]);
    const e = em & bit ? (step > 0 ? INT64_MAX : INT64_MIN) : BigInt(end[i]);
    if (s === 0n && e === INT64_MAX && step === 1) continue; // the whole axis
    starts.push(s); ends.push(e); axes.push(i); steps.push(step);
  }
  let x = ins[0];
  if (axes.length > 0) {
    x = b.add('Slice', [x, b.int64(starts), b.int64(ends), b.int64(axes), b.int64(steps)], squeeze.length > 0 ? b.temp(out) : out);
  }
  if (squeeze.length > 0) b.add('Squeeze', [x, b.int64(squeeze)], out);
  else if (axes.length === 0) b.add('Identity', [x], out);
}

export interface ConvertOptions {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

/** Builds the ONNX graph of a TF.js topology; constants come from `weights` (by node name). */
export function convertTfGraph(nodes: readonly TfNode[], weights: Map<string, TfWeight>, opts: ConvertOptions): GraphSpec {
  const b = new Builder(weights);
  for (const n of nodes) {
    if (n.op === 'Placeholder') continue;
    if (n.op === 'Const') {
      if (!weights.has(n.name)) throw new Error(`${n.name}: constant has no weight data`);
      continue;
    }
    convertNode(b, n);
  }
  return { name: 'converted', nodes: b.nodes, initializers: b.initializers, inputs: opts.inputs, outputs: opts.outputs, opset: OPSET };
}

/** Splits a TF.js weights buffer into named tensors, following the manifest order. */
export function readWeights(specs: ReadonlyArray<{ name: string; shape: number[]; dtype: string }>, buffer: ArrayBuffer): Map<string, TfWeight> {
  const out = new Map<string, TfWeight>();
  let offset = 0;
  for (const s of specs) {
    const size = s.shape.reduce((x, y) => x * y, 1);
    if (s.dtype !== 'float32' && s.dtype !== 'int32') throw new Error(`weight ${s.name}: dtype ${s.dtype} is not supported`);
    const data = s.dtype === 'float32' ? new Float32Array(buffer, offset, size) : new Int32Array(buffer, offset, size);
    out.set(s.name, { shape: s.shape, dtype: s.dtype, data });
    offset += size * 4;
  }
  return out;
}
