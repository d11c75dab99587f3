/** Selects the TF.js WASM backend once per process, loading its binary from the installed package (works offline). */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);
let ready: Promise<void> | undefined;

export function ensureWasmBackend(): Promise<void> {
  ready ??= (async () => {
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    setWasmPaths(dist);
    if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js WASM backend failed to initialise');
    await tf.ready();
  })();
  return ready;
}
