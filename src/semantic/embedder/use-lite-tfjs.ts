/** Runs the USE-lite graph on TF.js 4 with the WASM backend (on the event loop). */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { ensureWasmBackend } from './tf-backend.js';
import type { GraphRunner, UseLiteFiles } from './use-lite.js';

export async function createTfjsRunner(files: UseLiteFiles): Promise<GraphRunner> {
  await ensureWasmBackend();
  const model = await loadGraphModel(
    tf.io.fromMemory({
      modelTopology: files.topology,
      weightSpecs: files.weightSpecs as tf.io.WeightsManifestEntry[],
      weightData: files.weightData,
    }),
  );
  return {
    name: 'tfjs',
    precision: 'float32',
    async run(batch) {
      const total = batch.values.length;
      const inputs = { indices: tf.tensor2d(batch.indices, [total, 2], 'int32'), values: tf.tensor1d(batch.values, 'int32') };
      let output: tf.Tensor | undefined;
      try {
        // The graph has data-dependent ops (Where), so it needs executeAsync.
        output = (await model.executeAsync(inputs)) as tf.Tensor;
        return (await output.data()) as Float32Array;
      } finally {
        inputs.indices.dispose();
        inputs.values.dispose();
        output?.dispose();
      }
    },
    async close() {
      model.dispose();
    },
  };
}
