/**
 * The entries this process knows about: metadata and guard features of every live entry, one HNSW index per
 * partition (so a search never sees another tenant's entries and needs no filter), and an LRU order with entry-count and
 * memory bounds. In memory mode it also holds the replies; in Redis mode it is the local mirror of what Redis holds.
 */
import { VectorIndex } from '../semantic/vector-index.js';
import { ProjectedIndex, type PartitionIndex } from './projected-index.js';
import type { Projection } from './projection.js';
import type { GraphParams } from './config.js';
import { extractFeatures, type QuestionFeatures } from './guard.js';
import { replyBytes, type CachedReply } from './reply.js';

/** What is known about one entry without its reply. Serialisable (Redis stores it as JSON). */
export interface EntryMeta {
  /** Exact key. */
  key: string;
  partition: string;
  tenant: string;
  model: string;
  intent: string;
  /** The normalised embedded text (the guard compares it); absent for exact-only entries. */
  text?: string;
  createdAt: number;
  expiresAt: number;
  /** Upstream latency of the reply when it was produced, ms (a hit saves about this much). */
  latencyMs: number;
  hits: number;
}

export interface LocalEntry {
  readonly meta: EntryMeta;
  /** Whether the entry is in its partition's HNSW index (the vector itself lives there only). */
  readonly semantic: boolean;
  readonly features: QuestionFeatures | undefined;
  /** Held locally in memory mode; fetched from the store in Redis mode. */
  reply: CachedReply | undefined;
  readonly label: number;
  readonly bytes: number;
}

export interface IndexParams extends GraphParams {
  dim: number;
  /** When set, partitions search projected vectors and re-score the shortlist with the full ones (./projected-index.ts). */
  projection?: Projection;
}

export interface Candidate {
  entry: LocalEntry;
  score: number;
}

interface Partition {
  index: PartitionIndex | undefined;
  labels: Map<number, string>;
  nextLabel: number;
  count: number;
}

export type EvictReason = 'lru' | 'expired' | 'deleted';

export class LocalIndex {
  private readonly entries = new Map<string, LocalEntry>();
  private readonly partitions = new Map<string, Partition>();
  private bytes = 0;
  /**
   * Estimated bytes of one vector with its graph links: about 8 a dimension held natively (measured against RSS), or
   * with a projection, the full vector in the partition's array (4 a dimension) plus the projected one natively.
   */
  private readonly vectorBytes: number;

  constructor(
    private readonly params: IndexParams,
    private limits: { maxEntries: number; maxBytes: number },
    private readonly now: () => number,
    /** Called for each entry dropped to respect the bounds or because it expired. */
    private readonly onEvict: (meta: EntryMeta, reason: EvictReason) => void,
  ) {
    const p = params.projection;
    this.vectorBytes = p === undefined ? params.dim * 8 : p.dim * 4 + p.dims * 8;
  }

  get size(): number { return this.entries.size; }
  get memoryBytes(): number { return this.bytes; }
  get partitionCount(): number { return this.partitions.size; }

  /** The live entry under an exact key; refreshes its LRU position. Expired entries are dropped on sight. */
  get(key: string, touch = true): LocalEntry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.meta.expiresAt <= this.now()) {
      this.remove(key, 'expired');
      return undefined;
    }
    if (touch) { this.entries.delete(key); this.entries.set(key, e); }
    return e;
  }

  /** Metadata of an entry, without touching its LRU position or checking expiry. */
  peek(key: string): LocalEntry | undefined { return this.entries.get(key); }

  add(meta: EntryMeta, vector: Float32Array | undefined, reply: CachedReply | undefined): LocalEntry {
    this.remove(meta.key, 'deleted', false);
    let label = -1;
    let vectorBytes = 0;
    if (vector !== undefined) {
      const p = this.partitionFor(meta.partition);
      label = p.nextLabel++;
      p.index ??= this.newIndex();
      p.index.add(label, vector);
      vectorBytes = this.vectorBytes;
      p.labels.set(label, meta.key);
      p.count++;
    } else {
      this.partitionFor(meta.partition).count++;
    }
    // Estimate: the record and its strings, the guard features (word sets, ~12 bytes a character), and the vector(s) and
    // graph links held by the index.
    const bytes = 320 + meta.key.length + (meta.text?.length ?? 0) * 12 + vectorBytes + (reply ? replyBytes(reply) : 0);
    const entry: LocalEntry = { meta, semantic: label >= 0, features: meta.text !== undefined ? extractFeatures(meta.text) : undefined, reply, label, bytes };
    this.entries.set(meta.key, entry);
    this.bytes += bytes;
    this.enforceBounds();
    return entry;
  }

  /** Removes one entry; returns whether it was present. */
  remove(key: string, reason: EvictReason, notify = true): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.bytes -= e.bytes;
    const p = this.partitions.get(e.meta.partition);
    if (p !== undefined) {
      if (e.label >= 0) { p.index?.remove(e.label); p.labels.delete(e.label); }
      if (--p.count === 0) this.partitions.delete(e.meta.partition);
    }
    if (notify) this.onEvict(e.meta, reason);
    return true;
  }

  /** Removes every entry of a partition; returns their keys. */
  removePartition(partition: string): string[] {
    const p = this.partitions.get(partition);
    if (p === undefined) return [];
    const keys: string[] = [];
    for (const [k, e] of this.entries) if (e.meta.partition === partition) keys.push(k);
    for (const k of keys) this.remove(k, 'deleted', false);
    this.partitions.delete(partition);
    return keys;
  }

  clear(): number {
    const n = this.entries.size;
    this.entries.clear();
    this.partitions.clear();
    this.bytes = 0;
    return n;
  }

  /** The best live candidates in one partition, best first. */
  search(partition: string, vector: Float32Array, k: number): Candidate[] {
    const p = this.partitions.get(partition);
    if (p?.index === undefined) return [];
    const now = this.now();
    const out: Candidate[] = [];
    for (const n of p.index.search(vector, k)) {
      const key = p.labels.get(n.label);
      const entry = key === undefined ? undefined : this.entries.get(key);
      if (entry === undefined) continue;
      if (entry.meta.expiresAt <= now) { this.remove(entry.meta.key, 'expired'); continue; }
      out.push({ entry, score: n.score });
    }
    return out;
  }

  /** The vector an entry is searched by (for the guard's vector features), or undefined. */
  vectorOf(entry: LocalEntry): Float32Array | undefined {
    return entry.label < 0 ? undefined : this.partitions.get(entry.meta.partition)?.index?.vectorOf(entry.label);
  }

  /** Drops expired entries; returns how many. */
  sweep(): number {
    const now = this.now();
    const dead: string[] = [];
    for (const [k, e] of this.entries) if (e.meta.expiresAt <= now) dead.push(k);
    for (const k of dead) this.remove(k, 'expired');
    return dead.length;
  }

  keys(): IterableIterator<string> { return this.entries.keys(); }

  /** New entry-count and memory bounds; entries beyond them are evicted now, least recently used first. */
  setLimits(limits: { maxEntries: number; maxBytes: number }): void {
    this.limits = limits;
    this.enforceBounds();
  }

  private newIndex(): PartitionIndex {
    const { projection, dim, M, efConstruction, efSearch } = this.params;
    return projection !== undefined
      ? new ProjectedIndex(projection, this.params)
      : new VectorIndex({ dim, M, efConstruction, efSearch, initialCapacity: 16 });
  }

  private partitionFor(id: string): Partition {
    let p = this.partitions.get(id);
    if (p === undefined) {
      p = { index: undefined, labels: new Map(), nextLabel: 0, count: 0 };
      this.partitions.set(id, p);
    }
    return p;
  }

  private enforceBounds(): void {
    while (this.entries.size > this.limits.maxEntries || (this.bytes > this.limits.maxBytes && this.entries.size > 1)) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest, 'lru');
    }
  }
}
