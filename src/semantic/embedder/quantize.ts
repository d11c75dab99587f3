/**
 * Int8 dynamic quantisation of a converted ONNX graph. Every MatMul whose right operand is a 2-D float initializer gets
 * int8 weights with one scale per output column (symmetric, zero point 0), and its left operand is quantised per call
 * (uint8, one scale and zero point per tensor):
 *
 *   DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zp, 0) → Cast(float) → Mul(x_scale · W_scale)
 *
 * This is the pattern onnxruntime's own dynamic quantiser writes; its optimiser fuses it into one DynamicQuantizeMatMul
 * kernel. Activation × activation products (attention) and every other op stay float.
 */
import { AttrType, OnnxType, type GraphSpec, type NodeProto, type TensorProto } from './onnx-proto.js';

/** Largest magnitude of a quantised weight (the int8 range made symmetric). */
const QMAX = 127;

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

/** The graph with its constant-weight MatMuls in int8; initializers no node reads any more are dropped. */
export function quantizeMatMuls(graph: GraphSpec): GraphSpec {
  const inits = new Map(graph.initializers.map((t) => [t.name ?? '', t]));
  const added: TensorProto[] = [];
  const quantized = new Map<string, QuantizedWeight>();
  const weightOf = (name: string, t: TensorProto): QuantizedWeight => {
    let qw = quantized.get(name);
    if (qw === undefined) {
      const [rows, cols] = t.dims;
      const { q, scale } = quantizeColumns(floats(t), rows, cols);
      qw = { values: `${name}/int8`, zeroPoint: `${name}/int8_zero_point`, scale: `${name}/int8_scale` };
      added.push(
        { name: qw.values, dims: [rows, cols], dataType: OnnxType.INT8, rawData: raw(q) },
        { name: qw.zeroPoint, dims: [cols], dataType: OnnxType.INT8, rawData: new Uint8Array(cols) },
        { name: qw.scale, dims: [cols], dataType: OnnxType.FLOAT, rawData: raw(scale) },
      );
      quantized.set(name, qw);
    }
    return qw;
  };

  const nodes: NodeProto[] = [];
  for (const n of graph.nodes) {
    const w = n.opType === 'MatMul' ? inits.get(n.input[1]) : undefined;
    if (w === undefined || w.dataType !== OnnxType.FLOAT || w.dims.length !== 2) {
      nodes.push(n);
      continue;
    }
    const qw = weightOf(n.input[1], w);
    const [k, cols] = w.dims;
    const out = n.output[0];
    const t = (suffix: string) => `${out}/int8_${suffix}`;
    const node = (opType: string, input: string[], output: string, attribute?: NodeProto['attribute']): string => {
      nodes.push({ name: `${output}#q`, opType, input, output: [output], ...(attribute ? { attribute } : {}) });
      return output;
    };
    const c = (name: string, dataType: number, values: Uint8Array, dims: number[]) => {
      const full = `${out}/int8_${name}`;
      added.push({ name: full, dims, dataType: dataType as TensorProto['dataType'], rawData: values });
      return full;
    };
    const i64 = (vals: number[]) => new Uint8Array(BigInt64Array.from(vals.map(BigInt)).buffer);
    const f32 = (vals: number[]) => new Uint8Array(Float32Array.from(vals).buffer);
    const x = n.input[0];
    const axes = [{ name: 'axes', type: AttrType.INTS, ints: [-1] }];
    const absMax = node('Max', [node('ReduceMax', [node('Abs', [x], t('abs'))], t('absmax0'), axes), c('tiny', OnnxType.FLOAT, f32([1e-30]), [])], t('absmax'));
    const scale = node('Div', [absMax, c('q127', OnnxType.FLOAT, f32([127]), [])], t('scale'));
    const inverse = node('Div', [c('q127i', OnnxType.FLOAT, f32([127]), []), absMax], t('inverse'));
    // x / scale lies in [-127, 127]; + 128.5 then truncation (Cast) is round-half-up onto 1..255 around the zero point 128.
    const shifted = node('Add', [node('Mul', [x, inverse], t('xs')), c('f128', OnnxType.FLOAT, f32([128.5]), [])], t('xshift'));
    const xq = node('Cast', [shifted], t('xq'), [{ name: 'to', type: AttrType.INT, i: OnnxType.UINT8 }]);
    const zp = c('zp', OnnxType.UINT8, Uint8Array.from([128]), []);
    const y = node('MatMulInteger', [xq, qw.values, zp, qw.zeroPoint], t('int32'));
    const yf = node('Cast', [y], t('float'), [{ name: 'to', type: AttrType.INT, i: OnnxType.FLOAT }]);
    node('Mul', [node('Mul', [yf, scale], t('row_scaled')), qw.scale], out);
  }

  const read = new Set(nodes.flatMap((n) => n.input));
  const initializers = [...graph.initializers, ...added].filter((t) => read.has(t.name ?? ''));
  return { ...graph, nodes, initializers };
}
