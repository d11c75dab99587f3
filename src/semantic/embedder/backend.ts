/** Loads the configured model backend in the calling thread (a worker thread on the request path; see worker-pool.ts). */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { EmbedderConfig } from '../config.js';
import type { Embedder } from './types.js';

/**
 * Model calls at once (one worker thread each) and intra-op threads per model call, as configured or sized from `cores`:
 * `auto` runs 2 workers on a machine with 2 or more cores (fewer when `threads` already takes them), each with
 * cores / workers threads.
 */
export function parallelismOf(config: Pick<EmbedderConfig, 'threads' | 'concurrency'>, cores = availableParallelism()): { threads: number; concurrency: number } {
  const c = Math.max(1, cores);
  const concurrency = config.concurrency !== 'auto'
    ? config.concurrency
    : Math.max(1, Math.min(2, Math.floor(c / (config.threads === 'auto' ? 1 : config.threads))));
  const threads = config.threads !== 'auto' ? config.threads : Math.max(1, Math.floor(c / concurrency));
  return { threads, concurrency };
}

/** Told when the configured runtime could not load and a slower one serves instead. */
export type FallbackObserver = (message: string, cause: Error) => void;

/** Loads the backend named in the config (model files resolved against rootDir). */
export async function createBackend(config: EmbedderConfig, rootDir: string, onFallback?: FallbackObserver): Promise<Embedder> {
  if (config.backend === 'transformers') {
    if (!config.model) throw new Error('semantic.embedder.model: required when backend is transformers (a folder under models_dir)');
    const { TransformersEmbedder } = await import('./transformers.js');
    return TransformersEmbedder.load({
      model: config.model,
      modelsDir: path.resolve(rootDir, config.models_dir),
      allowRemote: config.allow_remote,
      pooling: config.pooling,
      quantized: config.quantized,
    });
  }
  const { UseLiteEmbedder } = await import('./use-lite.js');
  return UseLiteEmbedder.load({
    runtime: config.runtime,
    threads: parallelismOf(config).threads,
    precision: config.quantized ? 'int8' : 'float32',
    maxBatchTokens: config.max_batch_tokens,
    onFallback: (err) => onFallback?.('onnxruntime could not load; use-lite runs on TF.js WASM instead (slower)', err),
  });
}
