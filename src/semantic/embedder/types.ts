/** The embedder interface every backend implements. */

export interface Embedder {
  /** Stable identity of the model and its preprocessing; keys the on-disk and in-memory embedding caches. */
  readonly id: string;
  /**
   * The vector space models fitted on this embedder's similarities belong to (the cache's pair scorer).
   * A variant that approximates another's vectors closely (int8 weights) shares its space but not its id. Unset: the id.
   */
  readonly space?: string;
  readonly dim: number;
  /** One L2-normalised vector per input text, in input order. */
  embed(texts: string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** Scales `v` in place to unit length (a zero vector stays zero). */
export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i] *= inv;
  }
  return v;
}

/** Dot product; the cosine similarity of two unit vectors. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
