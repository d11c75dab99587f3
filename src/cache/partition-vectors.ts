/**
 * The vectors of one cache partition, searched by cosine similarity: a flat list scanned whole while the partition is small,
 * an HNSW index (src/semantic/vector-index.ts) once it is large enough to pay for one. The partition is what the caller's
 * request chooses (its model, system prompt and parameters), so one caller can make every entry a partition of its own; an
 * HNSW index has a fixed native cost of about 2.6 MB (hnswlib allocates 65,536 label locks per index), which a flat
 * partition does not pay. A scan costs about what an HNSW lookup does up to INDEX_AT (512 dimensions: 14 us at 10 vectors,
 * 54 at 100, 97 at 255, against hnswlib's 36, 60 and 78 us).
 * The cache's local index (./local-index.ts) decides when a partition is indexed or flattened, and counts the indexes'
 * fixed cost against its memory bound. A new index is filled a few vectors at a time, with each vector added after it
 * (MOVE_PER_ADD), never all at once: 256 inserts in one go held the event loop for 50-100 ms. Until the flat list is
 * empty, a search reads both.
 */
import { dot, l2normalize } from '../semantic/embedder/types.js';
import { VectorIndex, type Neighbour } from '../semantic/vector-index.js';

/** Vectors a partition holds when an index is built for it. */
export const INDEX_AT = 256;
/**
 * Most vectors a flat partition holds when no index fits in the memory bound (its oldest entries leave past it), so a
 * scan stays under about 0.4 ms.
 */
export const FLAT_MAX = 4 * INDEX_AT;
/** An indexed partition that falls below this many vectors goes back to a flat list (the gap keeps it from flapping). */
export const FLAT_BELOW = 64;
/** Flat vectors moved into a new index with each vector added to it (an insert is about 0.3 ms). */
const MOVE_PER_ADD = 4;
/** Fixed native memory of one HNSW index (measured: about 2.6 MB of RSS with one vector in it). */
export const INDEX_BYTES = 2_700_000;

export class PartitionVectors {
  private index: VectorIndex | undefined;
  /**
   * The flat list: labels and their vectors scaled to unit length (as the index keeps them), in the same order. With an
   * index, what is still to move into it.
   */
  private labels: number[] = [];
  private vectors: Float32Array[] = [];
  private readonly at = new Map<number, number>();

  constructor(private readonly dim: number) {}

  get size(): number {
    return (this.index?.size ?? 0) + this.labels.length;
  }

  get indexed(): boolean {
    return this.index !== undefined;
  }

  /** Adds or replaces the vector stored under `label`. */
  add(label: number, vector: ArrayLike<number>): void {
    if (vector.length !== this.dim) throw new Error(`vector has ${vector.length} dimensions, index expects ${this.dim}`);
    if (this.index !== undefined) {
      this.dropFlat(label);
      this.index.add(label, vector);
      this.move(MOVE_PER_ADD);
      return;
    }
    // A copy scaled to unit length, as hnswlib's cosine space keeps its vectors.
    const unit = l2normalize(Float32Array.from(vector));
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
    return this.dropFlat(label) || (this.index?.remove(label) ?? false);
  }

  /** The vector stored under `label`, scaled to unit length, or undefined. Not to be modified. */
  vectorOf(label: number): Float32Array | undefined {
    const i = this.at.get(label);
    return i !== undefined ? this.vectors[i] : this.index?.vectorOf(label);
  }

  /** The k nearest labels by cosine similarity, best first. */
  search(vector: ArrayLike<number>, k: number): Neighbour[] {
    const n = Math.min(k, this.size);
    if (n <= 0) return [];
    if (vector.length !== this.dim) throw new Error(`vector has ${vector.length} dimensions, index expects ${this.dim}`);
    const out = this.index !== undefined && this.index.size > 0 ? this.index.search(vector, n) : [];
    if (this.labels.length === 0) return out;
    let sum = 0;
    for (let i = 0; i < vector.length; i++) sum += vector[i] * vector[i];
    const scale = sum > 0 && Number.isFinite(sum) ? 1 / Math.sqrt(sum) : 0;
    // The best n so far, best first (n is a handful: an insertion into a short sorted list).
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

  /** Starts moving the flat list into `index` (new and empty), a few vectors with each later add. */
  build(index: VectorIndex): void {
    this.index = index;
    this.move(MOVE_PER_ADD);
  }

  /** Reads the index's vectors back into the flat list and lets the index go. `labels`: every label the partition holds. */
  flatten(labels: Iterable<number>): void {
    const index = this.index;
    if (index === undefined) return;
    this.index = undefined;
    for (const label of labels) {
      if (this.at.has(label)) continue;
      const v = index.vectorOf(label);
      if (v !== undefined) this.add(label, v);
    }
  }

  /** Moves up to `n` vectors from the end of the flat list into the index. */
  private move(n: number): void {
    const index = this.index!;
    for (let k = 0; k < n && this.labels.length > 0; k++) {
      const label = this.labels.pop()!;
      const v = this.vectors.pop()!;
      this.at.delete(label);
      index.add(label, v);
    }
  }

  /** Takes `label` out of the flat list; false when it is not there. */
  private dropFlat(label: number): boolean {
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
}
