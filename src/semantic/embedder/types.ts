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

/** Scales `v` in place to unit length (a zero vector stays zero, and so does one whose length is not finite). */
export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (s > 0 && Number.isFinite(s)) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i] *= inv;
  }
  return v;
}

/** Dot product; the cosine similarity of two unit vectors. Four running sums, so a scan over many vectors stays fast. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * b[i];
  return s0 + s1 + s2 + s3;
}
