/** Pooling of token embeddings into one unit vector per text. Pure; shared by the transformers backend and its tests. */
import { l2normalize } from './types.js';

export type Pooling = 'mean' | 'cls';

/**
 * `hidden` is a row-major [batch, seq, dim] buffer and `mask` the [batch, seq] attention mask (1 = real token).
 * Mean pooling averages the real tokens; CLS pooling takes the first token. Every result is L2-normalised.
 */
export function poolAndNormalize(
  hidden: ArrayLike<number>,
  mask: ArrayLike<number | bigint>,
  batch: number,
  seq: number,
  dim: number,
  pooling: Pooling,
): Float32Array[] {
  const out: Float32Array[] = new Array(batch);
  for (let b = 0; b < batch; b++) {
    const v = new Float32Array(dim);
    const base = b * seq * dim;
    if (pooling === 'cls') {
      for (let d = 0; d < dim; d++) v[d] = hidden[base + d];
    } else {
      let count = 0;
      for (let s = 0; s < seq; s++) {
        if (Number(mask[b * seq + s]) === 0) continue;
        count++;
        const off = base + s * dim;
        for (let d = 0; d < dim; d++) v[d] += hidden[off + d];
      }
      if (count > 0) for (let d = 0; d < dim; d++) v[d] /= count;
    }
    out[b] = l2normalize(v);
  }
  return out;
}
