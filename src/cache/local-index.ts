/**
 * The entries this process knows about: metadata (with the text the guard compares) of every live entry, one HNSW index per
 * partition (so a search never sees another tenant's entries and needs no filter), and an LRU order with entry-count and
 * memory bounds. In memory mode it also holds the replies; in Redis mode it is the local mirror of what Redis holds.
 */
import { VectorIndex } from '../semantic/vector-index.js';
import type { GraphParams } from './config.js';
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
  /** Held locally in memory mode; fetched from the store in Redis mode. */
  reply: CachedReply | undefined;
  readonly label: number;
  readonly bytes: number;
}

export interface IndexParams extends GraphParams {
  dim: number;
}

export interface Candidate {
  entry: LocalEntry;
  score: number;
}

interface Partition {
  /** The partition's id: the one instance of the string its entries' metadata share. */
  readonly id: string;
  index: VectorIndex | undefined;
  labels: Map<number, string>;
  nextLabel: number;
  count: number;
}

export type EvictReason = 'lru' | 'expired' | 'deleted';

/** How many stored vectors read back for the guard are kept at hand (see LocalIndex.recentVectors). */
const RECENT_VECTORS = 1024;

/** Distinct tenant, model and intent names shared between entries (a few per tenant; beyond this, each entry keeps its own). */
const MAX_NAMES = 10_000;

export class LocalIndex {
  private readonly entries = new Map<string, LocalEntry>();
  private readonly partitions = new Map<string, Partition>();
  /**
   * The stored vectors of the entries that were candidates most recently, least recent first. Reading one back from the
   * HNSW index goes through the binding element by element (tens of microseconds for 512 dimensions), and near-duplicate
   * traffic meets the same few stored questions again and again; RECENT_VECTORS of them cost about 2 MB.
   */
  private readonly recentVectors = new Map<LocalEntry, Float32Array>();
  private bytes = 0;
  /**
   * Estimated bytes of one vector with its graph links, held natively by hnswlib: 4 a dimension, 2M level-0 links of 4
   * bytes, and about 200 for the label, its lookup slot, its lock and the upper levels (measured against RSS).
   */
  private readonly vectorBytes: number;
  /**
   * One instance of each tenant, model and intent name: each request brings its own copies of these strings, and 100k
   * entries would otherwise keep 100k copies of a few names. Bounded; names beyond the bound are kept as they come.
   */
  private readonly names = new Map<string, string>();

  constructor(
    private readonly params: IndexParams,
    private limits: { maxEntries: number; maxBytes: number },
    private readonly now: () => number,
    /** Called for each entry dropped to respect the bounds or because it expired. */
    private readonly onEvict: (meta: EntryMeta, reason: EvictReason) => void,
  ) {
    this.vectorBytes = params.dim * 4 + params.M * 8 + 200;
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
    const p = this.partitionFor(meta.partition);
    meta.partition = p.id;
    meta.tenant = this.name(meta.tenant);
    meta.model = this.name(meta.model);
    meta.intent = this.name(meta.intent);
    let label = -1;
    let vectorBytes = 0;
    if (vector !== undefined) {
      label = p.nextLabel++;
      p.index ??= this.newIndex();
      p.index.add(label, vector);
      vectorBytes = this.vectorBytes;
      p.labels.set(label, meta.key);
    }
    p.count++;
    // Estimate: the records and their strings, the vector and graph links held by the index, and the reply.
    const bytes = 400 + meta.key.length + (meta.text?.length ?? 0) + vectorBytes + (reply ? replyBytes(reply) : 0);
    const entry: LocalEntry = { meta, semantic: label >= 0, reply, label, bytes };
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
    this.recentVectors.delete(e);
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
    this.recentVectors.clear();
    this.partitions.clear();
    this.names.clear();
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
    const recent = this.recentVectors.get(entry);
    if (recent !== undefined) {
      this.recentVectors.delete(entry);
      this.recentVectors.set(entry, recent);
      return recent;
    }
    if (entry.label < 0 || this.entries.get(entry.meta.key) !== entry) return undefined;
    const v = this.partitions.get(entry.meta.partition)?.index?.vectorOf(entry.label);
    if (v === undefined) return undefined;
    this.recentVectors.set(entry, v);
    if (this.recentVectors.size > RECENT_VECTORS) this.recentVectors.delete(this.recentVectors.keys().next().value!);
    return v;
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

  private newIndex(): VectorIndex {
    const { dim, M, efConstruction, efSearch } = this.params;
    return new VectorIndex({ dim, M, efConstruction, efSearch, initialCapacity: 16 });
  }

  private name(s: string): string {
    const known = this.names.get(s);
    if (known !== undefined) return known;
    if (this.names.size < MAX_NAMES) this.names.set(s, s);
    return s;
  }

  private partitionFor(id: string): Partition {
    let p = this.partitions.get(id);
    if (p === undefined) {
      p = { id, index: undefined, labels: new Map(), nextLabel: 0, count: 0 };
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
