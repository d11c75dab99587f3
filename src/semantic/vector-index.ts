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
  /**
   * The one plain array every call hands to the binding. hnswlib-node accepts only a JS Array and reads it element by
   * element through N-API (about 35-45 us for 512 dimensions, most of a small index's lookup), so the copy cannot be
   * avoided; filling a preallocated array costs about 2 us where `Array.from(Float32Array)` costs 15-30 us and allocates.
   * The binding copies the array into its own buffer before searching, so a filter callback that re-enters the index
   * cannot disturb a search in progress.
   */
  private readonly scratch: number[];

  constructor(opts: VectorIndexOptions) {
    this.dim = opts.dim;
    this.capacity = Math.max(16, opts.initialCapacity ?? 1024);
    this.efSearch = opts.efSearch ?? 64;
    // Small integers only (see load), so the array keeps V8's packed small-integer element kind.
    this.scratch = Array.from({ length: opts.dim }, () => 0);
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
    this.index.addPoint(this.load(vector), label, true);
    this.labels.add(label);
  }

  /** The vector stored under `label` (as the index keeps it: scaled to unit length by the cosine space), or undefined. */
  vectorOf(label: number): Float32Array | undefined {
    return this.labels.has(label) ? new Float32Array(this.index.getPoint(label)) : undefined;
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
    if (vector.length !== this.dim) throw new Error(`vector has ${vector.length} dimensions, index expects ${this.dim}`);
    const q = this.load(vector);
    if (n <= this.efSearch) return this.neighbours(this.index.searchKnn(q, n, filter));
    this.index.setEf(n);
    try {
      return this.neighbours(this.index.searchKnn(q, n, filter));
    } finally {
      this.index.setEf(this.efSearch);
    }
  }

  private neighbours(res: hnswlib.SearchResult): Neighbour[] {
    const out: Neighbour[] = new Array(res.neighbors.length);
    for (let i = 0; i < res.neighbors.length; i++) out[i] = { label: res.neighbors[i], score: 1 - res.distances[i] };
    return out;
  }

  /**
   * Copies a vector into the scratch array as integers scaled so the largest component is 2^29. The 'cosine' space
   * normalises every vector it receives, so the scale changes nothing, and the rounding (2^-29 of the largest component) is
   * far below float32 precision; but the binding reads small integers about 25% faster than doubles (no number boxing),
   * which saves about 10 us per call. A vector this cannot represent (non-finite components) is passed as it is.
   */
  private load(vector: ArrayLike<number>): number[] {
    const a = this.scratch;
    let max = 0;
    let finite = true;
    for (let i = 0; i < a.length; i++) {
      const x = Math.abs(vector[i]);
      if (x > max) max = x;
      else if (x !== x) finite = false;
    }
    const scale = max > 0 ? 2 ** 29 / max : 0;
    if (!finite || max === Infinity || !Number.isFinite(scale)) return Array.from(vector);
    for (let i = 0; i < a.length; i++) a[i] = Math.round(vector[i] * scale) | 0;
    return a;
  }
}
