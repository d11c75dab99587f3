/** The messages between the embedder's worker pool (worker-pool.ts) and its worker threads (embed-worker.ts). */
import type { EmbedderConfig } from '../config.js';
import type { WorkerPriority } from './thread-priority.js';

/** What a worker is started with (workerData). */
export interface WorkerSetup {
  config: EmbedderConfig;
  rootDir: string;
  /** The thread's scheduling priority (thread-priority.ts). */
  priority: WorkerPriority;
}

export type ToWorker = { type: 'embed'; id: number; texts: string[] } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; id: string; space: string; dim: number }
  | { type: 'failed'; message: string }
  | { type: 'fallback'; message: string; cause: string }
  | { type: 'result'; id: number; vectors: Float32Array[] }
  | { type: 'error'; id: number; message: string };
