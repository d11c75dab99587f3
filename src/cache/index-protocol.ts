/** Messages between the cache's index host (index-host.ts, the event loop) and its worker thread (index-worker.ts). */
import type { GraphParams } from './config.js';

export interface IndexSetup extends GraphParams {
  dim: number;
}

/** To the worker. `part` is a partition id; labels are unique across partitions and never reused. */
export type ToIndex =
  | { op: 'add'; part: string; label: number; vector: Float32Array }
  | { op: 'remove'; part: string; label: number }
  | { op: 'drop'; part: string }
  | { op: 'clear' }
  | { op: 'search'; id: number; part: string; vector: Float32Array; k: number }
  | { op: 'vector'; id: number; part: string; label: number };

/** From the worker: the answer to a search or vector call, or a failure (of a call, or of an add or remove: `id` 0). */
export type FromIndex =
  | { id: number; labels: number[]; scores: number[] }
  | { id: number; vector: Float32Array | undefined }
  | { id: number; error: string };
