/** Builds the configured embedder: a backend wrapped in the batching layer. */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { EmbedderConfig } from '../config.js';
import { BatchingEmbedder } from './batching.js';
import type { Embedder } from './types.js';

export type { Embedder } from './types.js';
export { BatchingEmbedder, EmbedAborted, EmbedderBusy } from './batching.js';

/** Intra-op threads per model call and model calls at once, as configured or sized from `cores`. */
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
    onFallback: (err) => onFallback?.('onnxruntime could not load; use-lite runs on TF.js WASM instead (slower)', err),
  });
}

/** Reports each model call: its latency and how many texts it embedded (for metrics). */
export type BatchObserver = (latencyMs: number, batchSize: number) => void;

/** The backend with every model call timed. */
function observed(backend: Embedder, onBatch: BatchObserver): Embedder {
  return {
    id: backend.id,
    space: backend.space,
    dim: backend.dim,
    async embed(texts) {
      const started = performance.now();
      const out = await backend.embed(texts);
      onBatch(performance.now() - started, texts.length);
      return out;
    },
    close: () => backend.close(),
  };
}

/**
 * Test hook: SWITCHYARD_TEST_EMBED_DELAY_MS (a whole number of milliseconds) holds every model call that long before it
 * runs, so tests can put the embedder past a request's semantic budget deterministically. Unset in production.
 */
function testDelay(backend: Embedder): Embedder {
  const ms = Number(process.env.SWITCHYARD_TEST_EMBED_DELAY_MS ?? '');
  if (!Number.isInteger(ms) || ms <= 0) return backend;
  return {
    id: backend.id,
    space: backend.space,
    dim: backend.dim,
    embed: (texts) => new Promise((resolve) => setTimeout(resolve, ms)).then(() => backend.embed(texts)),
    close: () => backend.close(),
  };
}

export async function createEmbedder(
  config: EmbedderConfig, rootDir: string, onBatch?: BatchObserver, onFallback?: FallbackObserver,
): Promise<BatchingEmbedder> {
  const backend = testDelay(await createBackend(config, rootDir, onFallback));
  return new BatchingEmbedder(onBatch ? observed(backend, onBatch) : backend, {
    windowMs: config.batch_window_ms,
    maxBatch: config.max_batch,
    maxQueue: config.max_queue,
    concurrency: parallelismOf(config).concurrency,
    lruSize: config.lru_size,
    maxInputChars: config.max_input_chars,
  });
}
