/** Builds the configured embedder: the backend in worker threads (worker-pool.ts), wrapped in the batching layer. */
import type { EmbedderConfig } from '../config.js';
import { parallelismOf, type FallbackObserver } from './backend.js';
import { BatchingEmbedder } from './batching.js';
import { keepLargeBlocksMapped } from './native-memory.js';
import type { Embedder } from './types.js';
import { WorkerPoolEmbedder } from './worker-pool.js';

export type { Embedder } from './types.js';
export { createBackend, parallelismOf, type FallbackObserver } from './backend.js';
export { BatchingEmbedder, EmbedAborted, EmbedderBusy } from './batching.js';

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
  const { concurrency } = parallelismOf(config);
  keepLargeBlocksMapped();
  const pool = await WorkerPoolEmbedder.start({ config, rootDir, size: concurrency, priority: config.worker_priority, onFallback });
  const backend = testDelay(pool);
  return new BatchingEmbedder(onBatch ? observed(backend, onBatch) : backend, {
    windowMs: config.batch_window_ms,
    maxBatch: config.max_batch,
    maxQueue: config.max_queue,
    concurrency,
    lruSize: config.lru_size,
    maxInputChars: config.max_input_chars,
  });
}
