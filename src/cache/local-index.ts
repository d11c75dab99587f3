/**
 * The entries this process knows about: metadata (with the text the guard compares) of every live entry, the vectors of
 * each partition apart (./partition-vectors.ts: a flat list while it is small, an HNSW index once it pays; so a search never
 * sees another tenant's entries and needs no filter), and entry-count and memory bounds kept fairly between tenants (src/store/fair-eviction.ts: past a bound, an expired entry goes first, else the least recently used
 * entry of the tenant scope holding the largest share, so one tenant's traffic never pushes out another's answers). In memory
 * mode it also holds the replies; in Redis mode it is the local mirror of what Redis holds.
 */
import { VectorIndex } from '../semantic/vector-index.js';
import { FairEviction, type Evictable, type FairLimits } from '../store/fair-eviction.js';
import type { GraphParams } from './config.js';
import { Names } from './names.js';
import { FLAT_BELOW, FLAT_MAX, INDEX_AT, INDEX_BYTES, PartitionVectors } from './partition-vectors.js';
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

/** An entry; its owner for eviction is its tenant scope (`meta.tenant`), its key and expiry are its metadata's. */
export interface LocalEntry extends Evictable<string> {
  readonly meta: EntryMeta;
  /** Whether the entry's vector is in its partition's vectors (the vector itself lives there only). */
  readonly semantic: boolean;
  /** Held locally in memory mode; fetched from the store in Redis mode. */
  reply: CachedReply | undefined;
  readonly label: number;
  readonly bytes: number;
}

/**
 * An entry as the index keeps it: the key, owner and expiry the fair eviction reads are its metadata's (read through, not
 * copied: at 100k entries every field of an entry is 0.4 MB, and an expiry copied would be a heap number of its own).
 */
class Entry implements LocalEntry {
  fairHolding: LocalEntry['fairHolding'] = undefined;
  fairPos = -1;

  constructor(readonly meta: EntryMeta, public reply: CachedReply | undefined, readonly label: number, readonly bytes: number) {}

  get semantic(): boolean { return this.label >= 0; }
  get key(): string { return this.meta.key; }
  get owner(): string { return this.meta.tenant; }
  get expiresAt(): number { return this.meta.expiresAt; }
  set expiresAt(at: number) { this.meta.expiresAt = at; }
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
  vectors: PartitionVectors | undefined;
  labels: Map<number, string>;
  nextLabel: number;
  count: number;
}

/** Why an entry left: `lru` for the bounds (the least recently used of the largest tenant), `expired`, or `deleted`. */
export type EvictReason = 'lru' | 'expired' | 'deleted';

/** How many stored vectors read back for the guard are kept at hand (see LocalIndex.recentVectors). */
const RECENT_VECTORS = 1024;

/** Distinct tenant, model and intent names shared between entries (a few per tenant; beyond this, each entry keeps its own). */
const MAX_NAMES = 10_000;

export class LocalIndex {
  private readonly entries = new Map<string, LocalEntry>();
  /** Use order per tenant scope, expiry order, and the bounds. */
  private readonly fair: FairEviction<string, LocalEntry>;
  private readonly partitions = new Map<string, Partition>();
  /**
   * The stored vectors of the entries that were candidates most recently, least recent first. Reading one back from the
   * HNSW index goes through the binding element by element (tens of microseconds for 512 dimensions), and near-duplicate
   * traffic meets the same few stored questions again and again; RECENT_VECTORS of them cost about 2 MB.
   */
  private readonly recentVectors = new Map<LocalEntry, Float32Array>();
  /**
   * Estimated bytes of one vector with its graph links, held natively by hnswlib: 4 a dimension, 2M level-0 links of 4
   * bytes, and about 200 for the label, its lookup slot, its lock and the upper levels (measured against RSS).
   */
  private readonly vectorBytes: number;
  /** One instance of each tenant, model and intent name (./names.ts). */
  private readonly names = new Names(MAX_NAMES);
  /** Partitions with an HNSW index; their fixed cost (INDEX_BYTES each) is taken from the memory bound the entries share. */
  private indexes = 0;
  private limits: FairLimits;

  constructor(
    private readonly params: IndexParams,
    limits: FairLimits,
    private readonly now: () => number,
    /** Called for each entry dropped to respect the bounds or because it expired. */
    private readonly onEvict: (meta: EntryMeta, reason: EvictReason) => void,
  ) {
    this.vectorBytes = params.dim * 4 + params.M * 8 + 200;
    this.limits = { ...limits };
    this.fair = new FairEviction(limits);
  }

  get size(): number { return this.entries.size; }
  /** The entries' estimated bytes and the indexes' fixed cost. */
  get memoryBytes(): number { return this.fair.bytes + this.indexes * INDEX_BYTES; }
  get partitionCount(): number { return this.partitions.size; }
  /** Partitions searched through an HNSW index (the others are scanned). */
  get indexCount(): number { return this.indexes; }

  /** The live entry under an exact key; refreshes its place in its tenant's use order. Expired entries are dropped on sight. */
  get(key: string, touch = true): LocalEntry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.meta.expiresAt <= this.now()) {
      this.remove(key, 'expired');
      return undefined;
    }
    if (touch) this.fair.touch(e);
    return e;
  }

  /** Metadata of an entry, without touching its use order or checking expiry. */
  peek(key: string): LocalEntry | undefined { return this.entries.get(key); }

  add(meta: EntryMeta, vector: Float32Array | undefined, reply: CachedReply | undefined): LocalEntry {
    this.remove(meta.key, 'deleted', false);
    const p = this.partitionFor(meta.partition);
    meta.partition = p.id;
    meta.tenant = this.names.of(meta.tenant);
    meta.model = this.names.of(meta.model);
    meta.intent = this.names.of(meta.intent);
    let label = -1;
    let vectorBytes = 0;
    if (vector !== undefined) {
      label = p.nextLabel++;
      p.vectors ??= new PartitionVectors(this.params.dim);
      p.vectors.add(label, vector);
      vectorBytes = this.vectorBytes;
      p.labels.set(label, meta.key);
      if (!p.vectors.indexed && p.vectors.size >= INDEX_AT && this.indexFits(this.indexes + 1)) {
        p.vectors.build(this.newIndex());
        this.indexes++;
        this.applyLimits();
      }
    }
    p.count++;
    this.trimFlat(p);
    // Estimate: the records and their strings (about 120 of the 520 bytes are the fair eviction's bookkeeping: the entry's
    // slot in its tenant's use order and in the expiry heap, measured at 100k entries), the vector and graph links held by
    // the index, and the reply.
    const bytes = 520 + meta.key.length + (meta.text?.length ?? 0) + vectorBytes + (reply ? replyBytes(reply) : 0);
    const entry = new Entry(meta, reply, label, bytes);
    this.entries.set(meta.key, entry);
    this.fair.add(entry);
    this.enforceBounds();
    return entry;
  }

  /** Removes one entry; returns whether it was present. */
  remove(key: string, reason: EvictReason, notify = true): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.fair.remove(e);
    this.recentVectors.delete(e);
    const p = this.partitions.get(e.meta.partition);
    if (p !== undefined) {
      if (e.label >= 0 && p.vectors !== undefined) {
        p.vectors.remove(e.label);
        p.labels.delete(e.label);
        if (p.vectors.indexed && p.vectors.size < FLAT_BELOW) this.flatten(p);
      }
      if (--p.count === 0) this.dropPartition(p);
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
    if (this.partitions.get(partition) === p) this.dropPartition(p);
    return keys;
  }

  clear(): number {
    const n = this.entries.size;
    this.entries.clear();
    this.fair.clear();
    this.recentVectors.clear();
    this.partitions.clear();
    this.names.clear();
    this.indexes = 0;
    this.applyLimits();
    return n;
  }

  /** The best live candidates in one partition, best first. */
  search(partition: string, vector: Float32Array, k: number): Candidate[] {
    const p = this.partitions.get(partition);
    if (p?.vectors === undefined) return [];
    const now = this.now();
    const out: Candidate[] = [];
    for (const n of p.vectors.search(vector, k)) {
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
    const v = this.partitions.get(entry.meta.partition)?.vectors?.vectorOf(entry.label);
    if (v === undefined) return undefined;
    this.recentVectors.set(entry, v);
    if (this.recentVectors.size > RECENT_VECTORS) this.recentVectors.delete(this.recentVectors.keys().next().value!);
    return v;
  }

  /** Drops expired entries; returns how many. */
  sweep(): number {
    const now = this.now();
    let n = 0;
    for (let e = this.fair.expired(now); e !== undefined; e = this.fair.expired(now), n++) this.remove(e.key, 'expired');
    return n;
  }

  keys(): IterableIterator<string> { return this.entries.keys(); }

  /** New entry-count and memory bounds; entries beyond them are evicted now, as `add` evicts. */
  setLimits(limits: FairLimits): void {
    this.limits = { ...limits };
    // Indexes the new bound cannot hold go back to flat lists, of at most FLAT_MAX vectors as any partition no index fits for.
    for (const p of this.partitions.values()) {
      if (this.indexFits(this.indexes)) break;
      if (p.vectors?.indexed === true) {
        this.flatten(p);
        this.trimFlat(p);
      }
    }
    this.applyLimits();
    this.enforceBounds();
  }

  /** Whether `n` indexes fit: their fixed cost may take at most half of the memory bound. */
  private indexFits(n: number): boolean {
    return n * INDEX_BYTES <= this.limits.maxBytes / 2;
  }

  /** The entries' share of the memory bound: what the indexes' fixed cost leaves. */
  private applyLimits(): void {
    this.fair.setLimits(this.limits.maxEntries, this.limits.maxBytes - this.indexes * INDEX_BYTES);
  }

  private flatten(p: Partition): void {
    p.vectors!.flatten(p.labels.keys());
    this.indexes--;
    this.applyLimits();
  }

  /** A partition no index fits for keeps its newest FLAT_MAX vectors (labels are in insertion order), so its scan stays short. */
  private trimFlat(p: Partition): void {
    while (p.vectors !== undefined && !p.vectors.indexed && p.vectors.size > FLAT_MAX) {
      const oldest = p.labels.values().next().value!;
      this.remove(oldest, 'lru');
    }
  }

  private dropPartition(p: Partition): void {
    if (p.vectors?.indexed === true) {
      this.indexes--;
      this.applyLimits();
    }
    this.partitions.delete(p.id);
  }

  private newIndex(): VectorIndex {
    const { dim, M, efConstruction, efSearch } = this.params;
    return new VectorIndex({ dim, M, efConstruction, efSearch, initialCapacity: INDEX_AT * 2 });
  }

  private partitionFor(id: string): Partition {
    let p = this.partitions.get(id);
    if (p === undefined) {
      p = { id, vectors: undefined, labels: new Map(), nextLabel: 0, count: 0 };
      this.partitions.set(id, p);
    }
    return p;
  }

  /** Past a bound (one entry is kept however large): expired entries go first, then the largest tenant's least recently used. */
  private enforceBounds(): void {
    const now = this.now();
    while (this.fair.over() && this.entries.size > 1) {
      const victim = this.fair.victim(now)!;
      this.remove(victim.key, victim.expiresAt <= now ? 'expired' : 'lru');
    }
  }
}
