/**
 * What the evaluation sections share besides running a command: the embedder variant a section runs and the on-disk
 * embedding cache its commands use.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The embedder variant a section runs: the default (int8) or the float model it approximates, measured side by side
 * (`--quantized false` on every command that embeds).
 */
export type Variant = 'default' | 'float32';
export const variantArgs = (v: Variant): string[] => (v === 'float32' ? ['--quantized', 'false'] : []);
export const variantSuffix = (v: Variant): string => (v === 'float32' ? '_float32' : '');

/**
 * The on-disk embedding cache for the commands that embed: kept in the temp folder across quick runs; off for full
 * runs unless SWITCHYARD_BENCH_EMBEDDING_CACHE names a folder (reruns of a full section then skip the embedding, and the
 * per-row embedding time is not measured). The cache changes no figure but the embedding time.
 */
export const embeddingCache = (quick: boolean): string =>
  quick ? join(tmpdir(), 'switchyard-bench-embeddings') : (process.env.SWITCHYARD_BENCH_EMBEDDING_CACHE ?? '');
