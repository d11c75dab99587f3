/**
 * Int8 quantisation of a converted ONNX graph. Every MatMul whose right operand is a 2-D float initializer gets int8
 * weights with one scale per output column (symmetric, zero point 0); its left operand is quantised at run time with one
 * scale per token (per row of the last axis), onto uint8 around the zero point 128:
 *
 *   s = max|x| / 127 per row;  x_q = uint8(x / s + 128.5);  y = float(MatMulInteger(x_q, W_q, 128, 0)) · s · W_scale
 *
 * Per-row scales keep each text's vector independent of the other texts in its batch (onnxruntime's own dynamic
 * quantiser uses one scale per tensor, i.e. per batch), and are finer. Activation × activation products (attention)
 * and every other op stay float.
 *
 * How the weights are stored depends on the processor (weightStorageHere). onnxruntime's uint8 × int8 kernels, on x86
 * processors without VNNI instructions (AVX2 only), add each pair of byte products into 16 bits with saturation
 * (255 × 127 × 2 > 32,767): sums were clipped, and a sentence's int8 vector fell to cosine 0.98 of the float one on such
 * a machine. There the weights are stored as uint8 (the int8 value + 128, zero point 128), so MatMulInteger runs the
 * uint8 × uint8 kernels, which widen to 16 bits before multiplying: exact, at the same speed. With VNNI (AVX-512 VNNI or
 * AVX-VNNI) the uint8 × int8 kernels add four byte products straight into 32 bits, exact too, and about 1.5× faster than
 * the uint8 × uint8 ones there (0.43 against 0.65 ms a text in batches of 16): the weights stay int8. Both give the same
 * integers, so the same vectors: one embedder id.
 */
import { readFileSync } from 'node:fs';
import { AttrType, OnnxType, type GraphSpec, type NodeProto, type TensorProto } from './onnx-proto.js';

/** Largest magnitude of a quantised weight (the int8 range made symmetric). */
const QMAX = 127;

/** The stored weight: the int8 value + 128, read around the zero point 128 (see above). */
const WEIGHT_ZERO = 128;

interface QuantizedWeight {
  values: string;
  zeroPoint: string;
  scale: string;
}

/** Per-column symmetric int8 quantisation of a row-major [rows, cols] matrix. */
export function quantizeColumns(w: Float32Array, rows: number, cols: number): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) scale[c] = Math.max(scale[c], Math.abs(w[r * cols + c]));
  }
  for (let c = 0; c < cols; c++) scale[c] = scale[c] > 0 ? scale[c] / QMAX : 1;
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.max(-QMAX, Math.min(QMAX, Math.round(w[r * cols + c] / scale[c])));
  }
  return { q, scale };
}

const floats = (t: TensorProto): Float32Array => {
  const copy = t.rawData.slice();
  return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
};
const raw = (a: Int8Array | Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** How the int8 weights are stored: `uint8` (value + 128, zero point 128) or `int8` (zero point 0); see above. */
export type WeightStorage = 'uint8' | 'int8';

/** The storage for a processor with these feature flags (Linux /proc/cpuinfo's `flags` line): int8 only with VNNI. */
export function storageFor(arch: string, flags: string | undefined): WeightStorage {
  if (arch !== 'x64' || flags === undefined) return 'uint8';
  return /(?:^|\s)(?:avx512_vnni|avx_vnni)(?:\s|$)/.test(flags) ? 'int8' : 'uint8';
}

let here: WeightStorage | undefined;

/** The storage for this machine's processor (read once, when the model is first built; uint8 where it cannot be told). */
export function weightStorageHere(): WeightStorage {
  if (here === undefined) {
    let flags: string | undefined;
    try {
      flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
    } catch {
      flags = undefined; // not Linux: the storage that is exact everywhere
    }
    here = storageFor(process.arch, flags);
  }
  return here;
}

/** The graph with its constant-weight MatMuls in int8; initializers no node reads any more are dropped. */
export function quantizeMatMuls(graph: GraphSpec, storage: WeightStorage = 'uint8'): GraphSpec {
  const inits = new Map(graph.initializers.map((t) => [t.name ?? '', t]));
  const added: TensorProto[] = [];
  const quantized = new Map<string, QuantizedWeight>();
  const weightOf = (name: string, t: TensorProto): QuantizedWeight => {
    let qw = quantized.get(name);
    if (qw === undefined) {
      const [rows, cols] = t.dims;
      const { q, scale } = quantizeColumns(floats(t), rows, cols);
      qw = { values: `${name}/int8`, zeroPoint: `${name}/int8_zero_point`, scale: `${name}/int8_scale` };
      const unsigned = storage === 'uint8';
      added.push(
        unsigned
          ? { name: qw.values, dims: [rows, cols], dataType: OnnxType.UINT8, rawData: Uint8Array.from(q, (v) => v + WEIGHT_ZERO) }
          : { name: qw.values, dims: [rows, cols], dataType: OnnxType.INT8, rawData: raw(q) },
        unsigned
          ? { name: qw.zeroPoint, dims: [cols], dataType: OnnxType.UINT8, rawData: new Uint8Array(cols).fill(WEIGHT_ZERO) }
          : { name: qw.zeroPoint, dims: [cols], dataType: OnnxType.INT8, rawData: new Uint8Array(cols) },
        { name: qw.scale, dims: [cols], dataType: OnnxType.FLOAT, rawData: raw(scale) },
      );
      quantized.set(name, qw);
    }
    return qw;
  };

  const nodes: NodeProto[] = [];
  const node = (opType: string, input: string[], output: string, attribute?: NodeProto['attribute']): string => {
    nodes.push({ name: `${output}#q`, opType, input, output: [output], ...(attribute ? { attribute } : {}) });
    return output;
  };
  const scalar = (name: string, dataType: TensorProto['dataType'], rawData: Uint8Array): string => {
    added.push({ name: `__int8/${name}`, dims: [], dataType, rawData });
    return `__int8/${name}`;
  };
  const f32 = (v: number): Uint8Array => raw(Float32Array.of(v));
  const tiny = scalar('tiny', OnnxType.FLOAT, f32(1e-30));
  const qmax = scalar('qmax', OnnxType.FLOAT, f32(QMAX));
  const offset = scalar('offset', OnnxType.FLOAT, f32(128.5));
  const zeroPoint = scalar('zero_point', OnnxType.UINT8, Uint8Array.of(128));
  const lastAxis = [{ name: 'axes', type: AttrType.INTS, ints: [-1] }];
  const cast = (to: number) => [{ name: 'to', type: AttrType.INT, i: to }];

  for (const n of graph.nodes) {
    const w = n.opType === 'MatMul' ? inits.get(n.input[1]) : undefined;
    if (w === undefined || w.dataType !== OnnxType.FLOAT || w.dims.length !== 2) {
      nodes.push(n);
      continue;
    }
    const qw = weightOf(n.input[1], w);
    const x = n.input[0];
    const out = n.output[0];
    const t = (suffix: string) => `${out}/int8_${suffix}`;
    const absMax = node('Max', [node('ReduceMax', [node('Abs', [x], t('abs'))], t('absmax0'), lastAxis), tiny], t('absmax'));
    const scale = node('Div', [absMax, qmax], t('scale'));
    // x / scale lies in [-127, 127]; + 128.5 then truncation (Cast) rounds half up onto 1..255 around the zero point 128.
    const shifted = node('Add', [node('Mul', [x, node('Div', [qmax, absMax], t('inverse'))], t('xs')), offset], t('shifted'));
    const product = node('MatMulInteger', [node('Cast', [shifted], t('xq'), cast(OnnxType.UINT8)), qw.values, zeroPoint, qw.zeroPoint], t('int32'));
    const rowScaled = node('Mul', [node('Cast', [product], t('float'), cast(OnnxType.FLOAT)), scale], t('row_scaled'));
    node('Mul', [rowScaled, qw.scale], out);
  }

  const read = new Set(nodes.flatMap((n) => n.input));
  const initializers = [...graph.initializers, ...added].filter((t) => read.has(t.name ?? ''));
  return { ...graph, nodes, initializers };
}
