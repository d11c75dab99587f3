/**
 * A cosine-similarity vector index over hnswlib-node: grows on demand, removes by label, returns similarities (1 = same
 * direction) rather than distances. Labels are caller-chosen non-negative integers.
 */
import hnswlib from 'hnswlib-node';

export interface VectorIndexOptions {
  dim: number;
  /** HNSW graph degree. */
  M?: number;
  efConstruction?: number;
  /** Search breadth; raised to k when k is larger. */
  efSearch?: number;
  initialCapacity?: number;
  seed?: number;
}

export interface Neighbour {
  label: number;
  /** Cosine similarity in [-1, 1]. */
  score: number;
}

export class VectorIndex {
  readonly dim: number;
  private readonly index: hnswlib.HierarchicalNSW;
  private readonly efSearch: number;
  private readonly labels = new Set<number>();
  private capacity: number;

  constructor(opts: VectorIndexOptions) {
    this.dim = opts.dim;
    this.capacity = Math.max(16, opts.initialCapacity ?? 1024);
    this.efSearch = opts.efSearch ?? 64;
    this.index = new hnswlib.HierarchicalNSW('cosine', opts.dim);
    this.index.initIndex({
      maxElements: this.capacity,
      m: opts.M ?? 16,
      efConstruction: opts.efConstruction ?? 200,
      randomSeed: opts.seed ?? 100,
      allowReplaceDeleted: true,
    });
    this.index.setEf(this.efSearch);
  }

  get size(): number {
    return this.labels.size;
  }

  has(label: number): boolean {
    return this.labels.has(label);
  }

  /** Adds or replaces the vector stored under `label`. */
  add(label: number, vector: ArrayLike<number>): void {
    if (vector.length !== this.dim) throw new Error(`vector has ${vector.length} dimensions, index expects ${this.dim}`);
    if (this.labels.has(label)) this.index.markDelete(label);
    if (this.index.getCurrentCount() >= this.capacity) {
      this.capacity *= 2;
      this.index.resizeIndex(this.capacity);
    }
    // replaceDeleted reuses the slot of a removed point, so removals do not grow the graph forever.
    this.index.addPoint(Array.from(vector), label, true);
    this.labels.add(label);
  }

  remove(label: number): boolean {
    if (!this.labels.delete(label)) return false;
    this.index.markDelete(label);
    return true;
  }

  /** The k nearest labels by cosine similarity, best first. */
  search(vector: ArrayLike<number>, k: number, filter?: (label: number) => boolean): Neighbour[] {
    const n = Math.min(k, this.labels.size);
    if (n <= 0) return [];
    if (n > this.efSearch) this.index.setEf(n);
    const res = this.index.searchKnn(Array.from(vector), n, filter);
    if (n > this.efSearch) this.index.setEf(this.efSearch);
    const out: Neighbour[] = new Array(res.neighbors.length);
    for (let i = 0; i < res.neighbors.length; i++) out[i] = { label: res.neighbors[i], score: 1 - res.distances[i] };
    return out;
  }
}
