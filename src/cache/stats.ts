/**
 * Cache statistics: totals since start, recent windows (last 5 minutes, last hour) from a ring of 10-second buckets, and
 * breakdowns by tenant, model and intent with bounded cardinality (top N by volume, the rest summed as "other").
 * The same events go to listeners (`onEvent`), so Prometheus metrics count exactly what the stats count.
 */
import type { GuardCheck } from './guard.js';
import type { EvictReason } from './local-index.js';
import type { SkipReason } from './request-key.js';

export type SkipOrBypass = SkipReason | 'bypass';

export interface Labels { tenant: string; model: string; intent: string }

export type CacheEvent =
  | ({ type: 'hit'; layer: 'exact' | 'semantic'; similarity: number; coalesced: boolean; promptTokens: number; completionTokens: number; costUsd: number; latencySavedMs: number } & Labels)
  | ({ type: 'miss' } & Labels)
  | ({ type: 'skip'; reason: SkipOrBypass } & Labels)
  | ({ type: 'guard_reject'; check: GuardCheck; similarity: number } & Labels)
  | ({ type: 'store'; bytes: number } & Labels)
  | { type: 'evict'; reason: EvictReason }
  | { type: 'store_error'; operation: string };

export type CacheEventListener = (e: CacheEvent) => void;

/** Upper edges of the similarity histogram of hits (exact hits count as 1). */
export const SIMILARITY_BUCKETS = [0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 1] as const;

export interface Counters {
  hits_exact: number;
  hits_semantic: number;
  hits_coalesced: number;
  misses: number;
  skips: Record<string, number>;
  stores: number;
  evictions: Record<string, number>;
  store_errors: number;
  guard_rejections: Record<string, number>;
  prompt_tokens_saved: number;
  completion_tokens_saved: number;
  cost_saved_usd: number;
  latency_saved_ms: number;
  /** Counts per SIMILARITY_BUCKETS upper edge. */
  similarity: number[];
}

const zero = (): Counters => ({
  hits_exact: 0, hits_semantic: 0, hits_coalesced: 0, misses: 0, skips: {}, stores: 0, evictions: {}, store_errors: 0,
  guard_rejections: {}, prompt_tokens_saved: 0, completion_tokens_saved: 0, cost_saved_usd: 0, latency_saved_ms: 0,
  similarity: SIMILARITY_BUCKETS.map(() => 0),
});

const bump = (o: Record<string, number>, k: string, n = 1): void => { o[k] = (o[k] ?? 0) + n; };

function apply(c: Counters, e: CacheEvent): void {
  switch (e.type) {
    case 'hit': {
      if (e.layer === 'exact') c.hits_exact++; else c.hits_semantic++;
      if (e.coalesced) c.hits_coalesced++;
      c.prompt_tokens_saved += e.promptTokens;
      c.completion_tokens_saved += e.completionTokens;
      c.cost_saved_usd += e.costUsd;
      c.latency_saved_ms += e.latencySavedMs;
      let b = SIMILARITY_BUCKETS.findIndex((edge) => e.similarity <= edge);
      if (b < 0) b = SIMILARITY_BUCKETS.length - 1;
      c.similarity[b]++;
      return;
    }
    case 'miss': c.misses++; return;
    case 'skip': bump(c.skips, e.reason); return;
    case 'guard_reject': bump(c.guard_rejections, e.check); return;
    case 'store': c.stores++; return;
    case 'evict': bump(c.evictions, e.reason); return;
    case 'store_error': c.store_errors++; return;
  }
}

function add(into: Counters, c: Counters): void {
  into.hits_exact += c.hits_exact; into.hits_semantic += c.hits_semantic; into.hits_coalesced += c.hits_coalesced;
  into.misses += c.misses; into.stores += c.stores; into.store_errors += c.store_errors;
  into.prompt_tokens_saved += c.prompt_tokens_saved; into.completion_tokens_saved += c.completion_tokens_saved;
  into.cost_saved_usd += c.cost_saved_usd; into.latency_saved_ms += c.latency_saved_ms;
  for (const [k, v] of Object.entries(c.skips)) bump(into.skips, k, v);
  for (const [k, v] of Object.entries(c.evictions)) bump(into.evictions, k, v);
  for (const [k, v] of Object.entries(c.guard_rejections)) bump(into.guard_rejections, k, v);
  for (let i = 0; i < c.similarity.length; i++) into.similarity[i] += c.similarity[i];
}

function summary(c: Counters): Counters & { lookups: number; hit_rate: number; skips_total: number } {
  const hits = c.hits_exact + c.hits_semantic;
  const lookups = hits + c.misses;
  const skips_total = Object.values(c.skips).reduce((a, b) => a + b, 0);
  return { ...c, lookups, hit_rate: lookups === 0 ? 0 : hits / lookups, skips_total };
}

/** Per-name counters with bounded cardinality: past `limit * 4` names the smallest are folded into "other". */
class Breakdown {
  private readonly names = new Map<string, Counters>();
  private readonly other = zero();

  constructor(private readonly limit: number) {}

  record(name: string, e: CacheEvent): void {
    let c = this.names.get(name);
    if (c === undefined) {
      if (this.names.size >= this.limit * 4) this.fold();
      c = zero();
      this.names.set(name, c);
    }
    apply(c, e);
  }

  /** By name; built from entries, so a name such as `__proto__` is an entry like any other, not the object's prototype. */
  report(): Record<string, ReturnType<typeof summary>> {
    const ranked = [...this.names].sort((a, b) => volume(b[1]) - volume(a[1]));
    const out: Array<[string, ReturnType<typeof summary>]> = [];
    const other = zero();
    add(other, this.other);
    ranked.forEach(([name, c], i) => { if (i < this.limit) out.push([name, summary(c)]); else add(other, c); });
    if (volume(other) > 0) out.push(['other', summary(other)]);
    return Object.fromEntries(out);
  }

  private fold(): void {
    const ranked = [...this.names].sort((a, b) => volume(a[1]) - volume(b[1]));
    for (const [name, c] of ranked.slice(0, ranked.length - this.limit * 2)) {
      add(this.other, c);
      this.names.delete(name);
    }
  }
}

const volume = (c: Counters): number =>
  c.hits_exact + c.hits_semantic + c.misses + Object.values(c.skips).reduce((a, b) => a + b, 0);

const BUCKET_MS = 10_000;
const RING = 360; // one hour of 10 s buckets

export interface StatsSnapshot {
  since: string;
  totals: ReturnType<typeof summary>;
  last_5m: ReturnType<typeof summary>;
  last_1h: ReturnType<typeof summary>;
  by_tenant: Record<string, ReturnType<typeof summary>>;
  by_model: Record<string, ReturnType<typeof summary>>;
  by_intent: Record<string, ReturnType<typeof summary>>;
  similarity_buckets: readonly number[];
}

export class CacheStats {
  private readonly totals = zero();
  private readonly ring: Array<{ slot: number; c: Counters } | undefined> = new Array(RING);
  private readonly tenants: Breakdown;
  private readonly models: Breakdown;
  private readonly intents: Breakdown;
  private readonly listeners = new Set<CacheEventListener>();
  private readonly since: number;

  constructor(topN: number, private readonly now: () => number = Date.now) {
    this.tenants = new Breakdown(topN);
    this.models = new Breakdown(topN);
    this.intents = new Breakdown(topN);
    this.since = now();
  }

  /** Subscribes to every cache event; returns the unsubscribe function. */
  onEvent(listener: CacheEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  record(e: CacheEvent): void {
    apply(this.totals, e);
    const slot = Math.floor(this.now() / BUCKET_MS);
    const i = slot % RING;
    let b = this.ring[i];
    if (b === undefined || b.slot !== slot) { b = { slot, c: zero() }; this.ring[i] = b; }
    apply(b.c, e);
    if ('tenant' in e) {
      this.tenants.record(e.tenant, e);
      this.models.record(e.model, e);
      this.intents.record(e.intent, e);
    }
    for (const l of this.listeners) {
      try { l(e); } catch { /* a listener must not break the request */ }
    }
  }

  private window(ms: number): Counters {
    const out = zero();
    const current = Math.floor(this.now() / BUCKET_MS);
    const oldest = current - Math.ceil(ms / BUCKET_MS) + 1;
    for (const b of this.ring) if (b !== undefined && b.slot >= oldest && b.slot <= current) add(out, b.c);
    return out;
  }

  snapshot(): StatsSnapshot {
    return {
      since: new Date(this.since).toISOString(),
      totals: summary(this.totals),
      last_5m: summary(this.window(5 * 60_000)),
      last_1h: summary(this.window(60 * 60_000)),
      by_tenant: this.tenants.report(),
      by_model: this.models.report(),
      by_intent: this.intents.report(),
      similarity_buckets: SIMILARITY_BUCKETS,
    };
  }
}
