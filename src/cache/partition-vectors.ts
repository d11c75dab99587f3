/**
 * The vectors of one cache partition, searched by cosine similarity: a flat list scanned whole while the partition is small,
 * an HNSW index (src/semantic/vector-index.ts) once it is large enough to pay for one. The partition is what the caller's
 * request chooses (its model, system prompt and parameters), so one caller can make every entry a partition of its own; an
 * HNSW index has a fixed native cost of about 2.6 MB (hnswlib allocates 65,536 label locks per index), which a flat
 * partition does not pay. A scan costs about what an HNSW lookup does up to INDEX_AT (512 dimensions: 14 us at 10 vectors,
 * 54 at 100, 97 at 255, against hnswlib's 36, 60 and 78 us).
 * The cache's local index (./local-index.ts) decides when a partition is indexed or flattened, and counts the indexes'
 * fixed cost against its memory bound.
 */
import { VectorIndex, type Neighbour } from '../semantic/vector-index.js';

/** Vectors a partition holds when an index is built for it. */
export const INDEX_AT = 256;
/** An indexed partition that falls below this many vectors goes back to a flat list (the gap keeps it from flapping). */
export const FLAT_BELOW = 64;
/** Fixed native memory of one HNSW index (measured: about 2.6 MB of RSS with one vector in it). */
export const INDEX_BYTES = 2_700_000;

export class PartitionVectors {
  private index: VectorIndex | undefined;
  /** The flat list: labels and their vectors scaled to unit length (as the index keeps them), in the same order. */
  private labels: number[] = [];
  private vectors: Float32Array[] = [];
  private readonly at = new Map<number, number>();

  constructor(private readonly dim: number) {}

  get size(): number {
    return this.index?.size ?? this.labels.length;
  }

  get indexed(): boolean {
    return this.index !== undefined;
  }

  /** Adds or replaces the vector stored under `label`. */
  add(label: number, vector: ArrayLike<number>): void {
    if (this.index !== undefined) return this.index.add(label, vector);
    if (vector.length !== this.dim) throw new Error(`vector has ${vector.length} dimensions, index expects ${this.dim}`);
    const unit = toUnit(vector);
    const i = this.at.get(label);
    if (i !== undefined) {
      this.vectors[i] = unit;
      return;
    }
    this.at.set(label, this.labels.length);
    this.labels.push(label);
    this.vectors.push(unit);
  }

  remove(label: number): boolean {
    if (this.index !== undefined) return this.index.remove(label);
    const i = this.at.get(label);
    if (i === undefined) return false;
    this.at.delete(label);
    const last = this.labels.length - 1;
    if (i !== last) {
      this.labels[i] = this.labels[last];
      this.vectors[i] = this.vectors[last];
      this.at.set(this.labels[i], i);
    }
    this.labels.pop();
    this.vectors.pop();
    return true;
  }

  /** The vector stored under `label`, scaled to unit length, or undefined. Not to be modified. */
  vectorOf(label: number): Float32Array | undefined {
    if (this.index !== undefined) return this.index.vectorOf(label);
    const i = this.at.get(label);
    return i === undefined ? undefined : this.vectors[i];
  }

  /** The k nearest labels by cosine similarity, best first. */
  search(vector: ArrayLike<number>, k: number): Neighbour[] {
    if (this.index !== undefined) return this.index.search(vector, k);
    const n = Math.min(k, this.labels.length);
    if (n <= 0) return [];
    if (vector.length !== this.dim) throw new Error(`vector has ${vector.length} dimensions, index expects ${this.dim}`);
    let sum = 0;
    for (let i = 0; i < vector.length; i++) sum += vector[i] * vector[i];
    const scale = sum > 0 && Number.isFinite(sum) ? 1 / Math.sqrt(sum) : 0;
    // The best n so far, best first (n is a handful: an insertion into a short sorted list).
    const out: Neighbour[] = [];
    for (let j = 0; j < this.vectors.length; j++) {
      const score = dot(vector, this.vectors[j]) * scale;
      if (out.length < n) out.push({ label: this.labels[j], score });
      else if (score > out[n - 1].score) out[n - 1] = { label: this.labels[j], score };
      else continue;
      for (let m = out.length - 1; m > 0 && out[m].score > out[m - 1].score; m--) {
        const t = out[m];
        out[m] = out[m - 1];
        out[m - 1] = t;
      }
    }
    return out;
  }

  /** Moves the flat list into `index` (new and empty). */
  build(index: VectorIndex): void {
    for (let i = 0; i < this.labels.length; i++) index.add(this.labels[i], this.vectors[i]);
    this.index = index;
    this.labels = [];
    this.vectors = [];
    this.at.clear();
  }

  /** Reads the index's vectors back into a flat list and lets the index go. */
  flatten(labels: Iterable<number>): void {
    const index = this.index;
    if (index === undefined) return;
    this.index = undefined;
    for (const label of labels) {
      const v = index.vectorOf(label);
      if (v !== undefined) this.add(label, v);
    }
  }
}

function dot(a: ArrayLike<number>, b: Float32Array): number {
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

/** A copy scaled to unit length (a zero vector stays zero), as hnswlib's cosine space keeps its vectors. */
function toUnit(v: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(v);
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += out[i] * out[i];
  const norm = Math.sqrt(sum);
  if (norm > 0 && Number.isFinite(norm)) for (let i = 0; i < out.length; i++) out[i] /= norm;
  return out;
}
