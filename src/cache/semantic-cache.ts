/**
 * The semantic cache: exact and semantic lookup inside one partition, the false-hit guard, storage with TTL and LRU bounds,
 * single-flight for identical misses, stats, and the admin operations. Entries live in this process (memory store) or in
 * Redis with a local mirror (see ./redis-store.ts); lookups always search the local index, so they never wait on the network
 * except to fetch a hit's reply in Redis mode.
 */
import type { Logger } from 'pino';
import type { RedisClientType } from 'redis';
import type { Usage } from '../providers/types.js';
import { cacheConfigSchema, graphSettings, type CacheConfig, type GraphParams } from './config.js';
import { extractFeatures, guardVerdict, resolvePairScorer, type GuardCheck } from './guard.js';
import type { PairScorer } from './pair-scorer.js';
import { LocalIndex, type Candidate, type EntryMeta, type LocalEntry } from './local-index.js';
import type { CachedReply } from './reply.js';
import { RedisStore } from './redis-store.js';
import type { RequestKey } from './request-key.js';
import { SingleFlight } from './single-flight.js';
import { CacheStats, type CacheEventListener, type StatsSnapshot } from './stats.js';

export interface SemanticCacheOptions {
  /** The `cache` config section (defaults applied when parsed). */
  config?: Partial<CacheConfig> | CacheConfig;
  /** Embedding dimensions. */
  dim: number;
  /** The embedder's vector space (Embedder.space, else its id), when known: a pair-scorer model fitted on another is then not used. */
  embedderSpace?: string;
  logger: Logger;
  /** Estimated USD an upstream call with this usage would have cost; used for "cost saved". */
  priceOf?: (model: string, usage: Usage) => number;
  /** Required when config.store is 'redis': an already-connected client. */
  redis?: RedisClientType;
  /** Clock (epoch ms), injectable for TTL tests. */
  now?: () => number;
}

export interface Hit {
  /** The entry served; absent for a reply shared by a single-flight leader. */
  entry?: LocalEntry;
  reply: CachedReply;
  /** 1 for an exact hit. */
  score: number;
}

export interface SemanticOutcome {
  hit?: Hit;
  /** Best candidate's similarity in the partition (0 when none). */
  best: number;
  /** Checks that rejected candidates above the threshold, in order. */
  rejected: Array<{ check: GuardCheck; score: number }>;
}

export interface EntryInfo {
  key: string;
  partition: string;
  tenant: string;
  model: string;
  intent: string;
  semantic: boolean;
  created: string;
  expires: string;
  ttl_s: number;
  hits: number;
  latency_ms: number;
  bytes: number;
}

const limitsOf = (c: CacheConfig): { maxEntries: number; maxBytes: number } => ({ maxEntries: c.max_entries, maxBytes: c.max_memory_mb * 1024 * 1024 });

/** Candidates examined per semantic lookup: the guard may reject the best one and accept the next. */
const CANDIDATES = 4;

/**
 * Settings that shape the index, the store or the stats: a change waits for a restart (the rest of the section applies
 * live). `partition_by` too: applied live it would strand every stored entry under partitions no request computes.
 */
const RESTART_KEYS = ['store', 'redis_prefix', 'redis_timeout_ms', 'index', 'stats', 'partition_by'] as const;

/** What the live settings decide, swapped whole when the config changes. */
interface Policy {
  readonly config: CacheConfig;
  readonly guard: CacheConfig['guard'];
  /** The guard's pair scorer (a configured model file is read when the settings are prepared, never by a request). */
  readonly scorer: PairScorer | undefined;
  /** Set when the configured scorer was fitted for another embedder and is set aside. */
  readonly mismatch?: Record<string, unknown>;
}

export class SemanticCache {
  readonly stats: CacheStats;
  readonly flights = new SingleFlight<CachedReply>();
  readonly dim: number;
  private readonly index: LocalIndex;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly priceOf: (model: string, usage: Usage) => number;
  private readonly remote: RedisStore | undefined;
  private readonly sweeper: NodeJS.Timeout;
  private readonly embedderSpace: string | undefined;
  private policy: Policy;
  /** The HNSW settings of the partition indexes (a partition is indexed once it is large enough: ./partition-vectors.ts). */
  readonly graph: GraphParams;

  private constructor(opts: SemanticCacheOptions) {
    this.dim = opts.dim;
    this.embedderSpace = opts.embedderSpace;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.priceOf = opts.priceOf ?? (() => 0);
    this.policy = this.policyFor(cacheConfigSchema.parse(opts.config ?? {}));
    this.warnAbout(this.policy);
    this.stats = new CacheStats(this.config.stats.top_n, this.now);
    this.graph = graphSettings(this.config.index);
    this.index = new LocalIndex(
      { dim: opts.dim, ...this.graph },
      limitsOf(this.config),
      this.now,
      (meta, reason) => {
        this.stats.record({ type: 'evict', reason });
        if (reason === 'lru') void this.remote?.remove([meta.key], true);
      },
    );
    if (this.config.store === 'redis') {
      if (opts.redis === undefined) throw new Error('cache.store: "redis" needs a Redis client');
      this.remote = new RedisStore(opts.redis, this.config.redis_prefix, this.config.redis_timeout_ms, this.index, this.logger,
        (operation) => this.stats.record({ type: 'store_error', operation }), this.now);
    }
    this.sweeper = setInterval(() => this.index.sweep(), 30_000);
    this.sweeper.unref();
  }

  /** Creates the cache; in Redis mode, loads the entries already in Redis and subscribes to other instances' writes. */
  static async create(opts: SemanticCacheOptions): Promise<SemanticCache> {
    const cache = new SemanticCache(opts);
    await cache.remote?.start();
    return cache;
  }

  get entries(): number { return this.index.size; }
  get memoryBytes(): number { return this.index.memoryBytes; }

  onEvent(listener: CacheEventListener): () => void { return this.stats.onEvent(listener); }

  /** The settings in force. */
  get config(): CacheConfig { return this.policy.config; }

  /**
   * Checks a new `cache` section and returns how to apply it: everything but the keys that shape the index or the store
   * (RESTART_KEYS, listed in `restartKeys` when they changed) takes effect at `apply()`, for the next request. Throws, and
   * changes nothing, when the section cannot be used (an unreadable scorer model), so a bad reload keeps the old settings.
   */
  prepare(input: Partial<CacheConfig> | CacheConfig): { apply: () => void; restartKeys: string[] } {
    const old = this.config;
    const next = cacheConfigSchema.parse(input);
    const restartKeys = RESTART_KEYS.filter((k) => JSON.stringify(next[k]) !== JSON.stringify(old[k]));
    const kept: CacheConfig = { ...next, ...Object.fromEntries(RESTART_KEYS.map((k) => [k, old[k]])) };
    const policy = this.policyFor(kept);
    return {
      restartKeys,
      apply: () => {
        this.policy = policy;
        this.index.setLimits(limitsOf(kept));
        this.warnAbout(policy);
      },
    };
  }

  /** The reply stored under an exact key, if live. */
  async exact(key: string): Promise<Hit | undefined> {
    const entry = this.index.get(key);
    if (entry === undefined) return undefined;
    const reply = await this.replyOf(entry);
    return reply === undefined ? undefined : { entry, reply, score: 1 };
  }

  /** The best live candidates in a partition, best first. */
  candidates(partition: string, vector: Float32Array, k = CANDIDATES): Candidate[] {
    if (vector.length !== this.dim) throw new Error(`embedding has ${vector.length} dimensions, the cache expects ${this.dim}`);
    return this.index.search(partition, vector, k);
  }

  /**
   * Semantic lookup: the first candidate at or above `threshold` that the false-hit guard lets through. `found` may be
   * given when the candidates were already searched (the rules variable cache_similarity does).
   */
  async semantic(text: string, partition: string, vector: Float32Array, threshold: number, found?: Candidate[]): Promise<SemanticOutcome> {
    const cands = found ?? this.candidates(partition, vector);
    const out: SemanticOutcome = { best: cands.length > 0 ? Math.max(0, cands[0].score) : 0, rejected: [] };
    if (cands.length === 0 || cands[0].score < threshold) return out;
    const features = extractFeatures(text);
    for (const c of cands) {
      if (c.score < threshold) break;
      const stored = c.entry.meta.text;
      if (stored === undefined) continue;
      const cached = this.policy.guard.scorer ? this.index.vectorOf(c.entry) : undefined;
      const vectors = cached === undefined ? undefined : { query: vector, cached };
      // The stored side's features are extracted here, for the few candidates above the threshold, rather than kept with
      // every entry: they took about twice an entry's other memory (docs/cache.md, "Memory").
      const check = guardVerdict(features, extractFeatures(stored), this.policy.guard, c.score, threshold, this.policy.scorer, vectors);
      if (check !== undefined) { out.rejected.push({ check, score: c.score }); continue; }
      const live = this.index.get(c.entry.meta.key);
      if (live === undefined) continue;
      const reply = await this.replyOf(live);
      if (reply !== undefined) { out.hit = { entry: live, reply, score: c.score }; break; }
    }
    return out;
  }

  /** Stores a complete reply under the request's key. */
  async store(key: RequestKey, vector: Float32Array | undefined, reply: CachedReply, info: { model: string; intent: string; ttlS: number; latencyMs: number }): Promise<void> {
    const now = this.now();
    const meta: EntryMeta = {
      key: key.exact, partition: key.partition, tenant: key.tenant, model: info.model, intent: info.intent,
      createdAt: now, expiresAt: now + info.ttlS * 1000, latencyMs: Math.round(info.latencyMs), hits: 0,
    };
    if (key.text !== undefined && vector !== undefined) meta.text = key.text;
    const vec = meta.text !== undefined ? vector : undefined;
    if (this.remote !== undefined) {
      if (!(await this.remote.put(meta, vec, reply))) return;
    } else {
      this.index.add(meta, vec, reply);
    }
    this.stats.record({ type: 'store', bytes: reply.size, tenant: meta.tenant, model: meta.model, intent: meta.intent });
  }

  /** Counts a hit: hits counter, stats with tokens, cost and latency saved. */
  recordHit(hit: Hit, layer: 'exact' | 'semantic', labels: { tenant: string; model: string; intent: string }, coalesced = false): void {
    if (hit.entry !== undefined) {
      hit.entry.meta.hits++;
      this.remote?.touch(hit.entry.meta.key);
    }
    const u = hit.reply.usage;
    let cost = 0;
    if (u !== undefined) {
      try { cost = this.priceOf(hit.entry?.meta.model ?? labels.model, u); } catch { cost = 0; }
    }
    this.stats.record({
      type: 'hit', layer, similarity: hit.score, coalesced, ...labels,
      promptTokens: u?.prompt_tokens ?? 0, completionTokens: u?.completion_tokens ?? 0,
      costUsd: Number.isFinite(cost) ? cost : 0, latencySavedMs: hit.entry?.meta.latencyMs ?? 0,
    });
  }

  /** Removes every entry (all instances in Redis mode); returns how many this instance held. */
  async clear(): Promise<number> {
    const n = this.index.clear();
    await this.remote?.clear();
    return n;
  }

  /** Removes one partition's entries; returns how many this instance held. */
  async clearPartition(partition: string): Promise<number> {
    const keys = this.index.removePartition(partition);
    await this.remote?.clearPartition(partition, keys);
    return keys.length;
  }

  /** Metadata of one entry (never its vector or reply), or undefined. */
  async inspect(key: string): Promise<EntryInfo | undefined> {
    const e = this.index.get(key, false);
    if (e === undefined) return undefined;
    const m = e.meta;
    const shared = await this.remote?.hits(key);
    if (shared !== undefined) m.hits = Math.max(m.hits, shared);
    return {
      key: m.key, partition: m.partition, tenant: m.tenant, model: m.model, intent: m.intent, semantic: e.semantic,
      created: new Date(m.createdAt).toISOString(), expires: new Date(m.expiresAt).toISOString(),
      ttl_s: Math.max(0, Math.round((m.expiresAt - this.now()) / 1000)), hits: m.hits, latency_ms: m.latencyMs, bytes: e.bytes,
    };
  }

  snapshot(): StatsSnapshot & {
    entries: number; partitions: number; indexed_partitions: number; memory_bytes: number; store: string; in_flight: number;
    index_dims: number; index_graph: { M: number; ef_construction: number; ef_search: number };
  } {
    return {
      ...this.stats.snapshot(), entries: this.index.size, partitions: this.index.partitionCount,
      indexed_partitions: this.index.indexCount,      memory_bytes: this.index.memoryBytes, store: this.config.store, in_flight: this.flights.inFlight,
      index_dims: this.dim,
      index_graph: { M: this.graph.M, ef_construction: this.graph.efConstruction, ef_search: this.graph.efSearch },
    };
  }

  /** Drops expired entries now (also done every 30 s). */
  sweep(): number { return this.index.sweep(); }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.remote?.close();
  }

  /** The guard settings and scorer a config gives; a scorer fitted for another embedder is set aside for the rules. */
  private policyFor(config: CacheConfig): Policy {
    const scorer = resolvePairScorer(config.guard);
    const otherEmbedder = scorer !== undefined && (scorer.model.dim !== this.dim
      || (this.embedderSpace !== undefined && scorer.model.embedder !== undefined && scorer.model.embedder !== this.embedderSpace));
    if (scorer === undefined || !otherEmbedder) return { config, guard: config.guard, scorer };
    // The model's similarity splits belong to the embedder it was fitted with; another one needs its own model.
    const mismatch = { model_dim: scorer.model.dim, model_embedder: scorer.model.embedder, dim: this.dim, embedder: this.embedderSpace };
    return { config, guard: { ...config.guard, scorer: false }, scorer: undefined, mismatch };
  }

  private warnAbout(policy: Policy): void {
    if (policy.mismatch === undefined || !policy.config.semantic) return;
    this.logger.warn(policy.mismatch,
      'cache guard: the pair scorer was fitted for another embedder; using the rules only (refit with switchyard cache-eval --fit)');
  }

  private async replyOf(entry: LocalEntry): Promise<CachedReply | undefined> {
    if (entry.reply !== undefined) return entry.reply;
    return this.remote?.reply(entry.meta);
  }
}
