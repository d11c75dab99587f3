/**
 * The activity feed: an in-memory recorder of routing decisions for the dashboard. It keeps the last N decisions (ids,
 * names, scores, statuses, timings, token counts and a sanitised explain trace — never prompt text) in a ring buffer, and
 * per-10-second buckets for the last hour with request, error and cache counts and traffic by intent, rule and provider.
 * Recording is O(1); `overview()` does the aggregation when the dashboard asks.
 */
import { sanitize } from './explain.js';
import type { RequestOutcome } from './outcome.js';

export interface ActivityOptions {
  /** Recent decisions kept (default 200). */
  capacity?: number;
  /** Bucket width (default 10 s) and the span of buckets kept (default 1 h). */
  bucketMs?: number;
  windowMs?: number;
  /** Distinct intent/rule/provider names counted per bucket before the rest are counted as "other" (default 50). */
  nameCap?: number;
  now?: () => number;
}

export interface ActivityAttempt {
  provider: string;
  model: string;
  key: string;
  status: number | 'error';
  latency_ms: number;
}

export interface ActivityEntry {
  time: string;
  id: string;
  request_type: string;
  requested_model: string;
  rule: string | null;
  intent: string | null;
  intent_score: number | null;
  cache: string | null;
  cache_similarity: number | null;
  /** ready | degraded (the semantic budget ran out) | null (no semantic work). */
  semantic: string | null;
  provider: string | null;
  model: string | null;
  attempts: ActivityAttempt[];
  status: number;
  error_code: string | null;
  latency_ms: number;
  ttfb_ms: number | null;
  stream: boolean;
  tokens: { prompt: number; completion: number; total: number } | null;
  explain: unknown;
}

/** A recorded request: the outcome by reference (it holds no prompt text); the entry is built when first read. */
interface Stored {
  t: number;
  o: RequestOutcome;
  raw: unknown;
  entry?: ActivityEntry;
}

function entryOf(t: number, o: RequestOutcome, explain: unknown): ActivityEntry {
  return {
    time: new Date(t).toISOString(),
    id: o.id ?? '',
    request_type: o.requestType,
    requested_model: o.requestedModel ?? '',
    rule: o.rule ?? null,
    intent: o.intent ?? null,
    intent_score: o.intentScore === undefined ? null : round(o.intentScore, 4),
    cache: o.cache ?? null,
    cache_similarity: o.cacheSimilarity === undefined ? null : round(o.cacheSimilarity, 4),
    semantic: o.semantic ?? null,
    provider: o.provider ?? null,
    model: o.model ?? null,
    attempts: o.attempts.map((a) => ({ provider: a.provider, model: a.model, key: a.keyId, status: a.status, latency_ms: round(a.latencyMs) })),
    status: o.status,
    error_code: o.errorCode ?? null,
    latency_ms: round(o.durationMs),
    ttfb_ms: o.ttfbMs === undefined ? null : round(o.ttfbMs),
    stream: o.stream,
    tokens: o.usage ? { prompt: o.usage.prompt_tokens, completion: o.usage.completion_tokens, total: o.usage.total_tokens } : null,
    explain: explain === undefined ? null : sanitize(explain),
  };
}

interface Bucket {
  slot: number;
  requests: number;
  errors: number;
  cacheHits: number;
  cacheLookups: number;
  /** Requests with semantic work, and those of them that went on without it. */
  semantic: number;
  degraded: number;
  latencyMs: number;
  tokens: number;
  intents: Map<string, number>;
  rules: Map<string, number>;
  providers: Map<string, number>;
}

export interface ActivityPoint {
  /** Bucket start (ms since epoch). */
  t: number;
  requests: number;
  errors: number;
  cache_hits: number;
  cache_lookups: number;
  avg_latency_ms: number;
  tokens: number;
}

export interface ActivityOverview {
  now: string;
  since: string;
  bucket_ms: number;
  totals: { requests: number; errors: number; cache_hits: number; cache_lookups: number; tokens: number };
  last_minute: {
    requests: number; errors: number; rate_per_s: number; error_rate: number; cache_hit_rate: number;
    /** Requests with semantic work, those degraded (semantic budget exceeded), and the degraded share of the first. */
    semantic: number; semantic_degraded: number; degraded_share: number;
  };
  last_hour: { requests: number; errors: number; cache_hits: number; cache_lookups: number; cache_hit_rate: number; tokens: number };
  /** Recent decisions' latency percentiles. */
  latency_ms: { p50: number; p95: number; p99: number; samples: number };
  series: ActivityPoint[];
  by_intent: Record<string, number>;
  by_rule: Record<string, number>;
  by_provider: Record<string, number>;
  recent: ActivityEntry[];
}

const round = (n: number, places = 2): number => {
  const f = 10 ** places;
  return Math.round(n * f) / f;
};

function bump(m: Map<string, number>, name: string, cap: number): void {
  const n = m.get(name);
  if (n !== undefined) m.set(name, n + 1);
  else if (m.size < cap) m.set(name, 1);
  else m.set('other', (m.get('other') ?? 0) + 1);
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function sortedRecord(m: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...m].sort((a, b) => b[1] - a[1]));
}

export class ActivityFeed {
  private readonly capacity: number;
  private readonly bucketMs: number;
  private readonly slots: number;
  private readonly nameCap: number;
  private readonly now: () => number;
  private readonly since: number;
  private readonly recent: Array<Stored | undefined>;
  private next = 0;
  private readonly ring: Array<Bucket | undefined>;
  private readonly totals = { requests: 0, errors: 0, cache_hits: 0, cache_lookups: 0, tokens: 0 };

  constructor(opts: ActivityOptions = {}) {
    this.capacity = Math.max(1, opts.capacity ?? 200);
    this.bucketMs = Math.max(1, opts.bucketMs ?? 10_000);
    this.slots = Math.max(1, Math.ceil((opts.windowMs ?? 3_600_000) / this.bucketMs));
    this.nameCap = opts.nameCap ?? 50;
    this.now = opts.now ?? Date.now;
    this.since = this.now();
    this.recent = new Array<Stored | undefined>(this.capacity);
    this.ring = new Array<Bucket | undefined>(this.slots);
  }

  /**
   * Records one finished request. `explain` is its trace (traceOf(ctx), or any object), shown when a row is expanded; it is
   * kept by reference and sanitised (no prompt text, headers or secrets; bounded) only when read.
   */
  record(o: RequestOutcome, explain?: unknown): void {
    const t = this.now();
    const hit = o.cache === 'hit-exact' || o.cache === 'hit-semantic';
    const lookup = hit || o.cache === 'miss';
    const error = o.status >= 400;
    const tokens = o.usage?.total_tokens ?? 0;

    this.totals.requests++;
    if (error) this.totals.errors++;
    if (hit) this.totals.cache_hits++;
    if (lookup) this.totals.cache_lookups++;
    this.totals.tokens += tokens;

    const slot = Math.floor(t / this.bucketMs);
    const i = slot % this.slots;
    let b = this.ring[i];
    if (b === undefined || b.slot !== slot) {
      b = { slot, requests: 0, errors: 0, cacheHits: 0, cacheLookups: 0, semantic: 0, degraded: 0, latencyMs: 0, tokens: 0, intents: new Map(), rules: new Map(), providers: new Map() };
      this.ring[i] = b;
    }
    b.requests++;
    if (o.semantic !== undefined) b.semantic++;
    if (o.semantic === 'degraded') b.degraded++;
    if (error) b.errors++;
    if (hit) b.cacheHits++;
    if (lookup) b.cacheLookups++;
    b.latencyMs += o.durationMs;
    b.tokens += tokens;
    bump(b.intents, o.intent || 'none', this.nameCap);
    bump(b.rules, o.rule || 'none', this.nameCap);
    bump(b.providers, hit ? 'cache' : (o.provider ?? 'none'), this.nameCap);

    this.recent[this.next] = { t, o, raw: explain };
    this.next = (this.next + 1) % this.capacity;
  }

  /** The share (0..1) of the last minute's requests with semantic work that went on without it (cheap: scrape time). */
  degradedShare(): number {
    const current = Math.floor(this.now() / this.bucketMs);
    const from = current - Math.max(1, Math.round(60_000 / this.bucketMs)) + 1;
    let semantic = 0;
    let degraded = 0;
    for (let slot = from; slot <= current; slot++) {
      const b = this.ring[((slot % this.slots) + this.slots) % this.slots];
      if (b === undefined || b.slot !== slot) continue;
      semantic += b.semantic;
      degraded += b.degraded;
    }
    return semantic === 0 ? 0 : degraded / semantic;
  }

  private stored(limit: number): Stored[] {
    const out: Stored[] = [];
    for (let k = 1; k <= this.capacity && out.length < limit; k++) {
      const s = this.recent[(this.next - k + this.capacity) % this.capacity];
      if (s === undefined) break;
      out.push(s);
    }
    return out;
  }

  /** Recent decisions, newest first, with their sanitised explain traces. Entries are shared: do not modify them. */
  entries(limit = this.capacity): ActivityEntry[] {
    return this.stored(limit).map((s) => {
      if (s.entry === undefined) {
        s.entry = entryOf(s.t, s.o, s.raw);
        s.raw = undefined; // the sanitised copy is kept; the references are dropped
      }
      return s.entry;
    });
  }

  /** Everything the dashboard shows, JSON-serialisable. `recentLimit` bounds the decisions returned. */
  overview(recentLimit = 50): ActivityOverview {
    const t = this.now();
    const current = Math.floor(t / this.bucketMs);
    const oldest = current - this.slots + 1;
    const minuteFrom = current - Math.max(1, Math.round(60_000 / this.bucketMs)) + 1;
    const series: ActivityPoint[] = [];
    const intents = new Map<string, number>();
    const rules = new Map<string, number>();
    const providers = new Map<string, number>();
    const hour = { requests: 0, errors: 0, cache_hits: 0, cache_lookups: 0, tokens: 0 };
    const minute = { requests: 0, errors: 0, hits: 0, lookups: 0, semantic: 0, degraded: 0 };
    const add = (into: Map<string, number>, from: Map<string, number>): void => {
      for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
    };
    for (let slot = oldest; slot <= current; slot++) {
      const b = this.ring[((slot % this.slots) + this.slots) % this.slots];
      const live = b !== undefined && b.slot === slot ? b : undefined;
      series.push({
        t: slot * this.bucketMs,
        requests: live?.requests ?? 0,
        errors: live?.errors ?? 0,
        cache_hits: live?.cacheHits ?? 0,
        cache_lookups: live?.cacheLookups ?? 0,
        avg_latency_ms: live && live.requests > 0 ? round(live.latencyMs / live.requests) : 0,
        tokens: live?.tokens ?? 0,
      });
      if (live === undefined) continue;
      hour.requests += live.requests;
      hour.errors += live.errors;
      hour.cache_hits += live.cacheHits;
      hour.cache_lookups += live.cacheLookups;
      hour.tokens += live.tokens;
      add(intents, live.intents);
      add(rules, live.rules);
      add(providers, live.providers);
      if (slot >= minuteFrom) {
        minute.requests += live.requests;
        minute.errors += live.errors;
        minute.hits += live.cacheHits;
        minute.lookups += live.cacheLookups;
        minute.semantic += live.semantic;
        minute.degraded += live.degraded;
      }
    }
    const latencies = this.stored(this.capacity).map((s) => round(s.o.durationMs)).sort((a, b) => a - b);
    const minuteSpanS = Math.min(60, Math.max(1, (t - Math.max(this.since, minuteFrom * this.bucketMs)) / 1000));
    return {
      now: new Date(t).toISOString(),
      since: new Date(this.since).toISOString(),
      bucket_ms: this.bucketMs,
      totals: { ...this.totals },
      last_minute: {
        requests: minute.requests,
        errors: minute.errors,
        rate_per_s: round(minute.requests / minuteSpanS, 3),
        error_rate: minute.requests ? round(minute.errors / minute.requests, 4) : 0,
        cache_hit_rate: minute.lookups ? round(minute.hits / minute.lookups, 4) : 0,
        semantic: minute.semantic,
        semantic_degraded: minute.degraded,
        degraded_share: minute.semantic ? round(minute.degraded / minute.semantic, 4) : 0,
      },
      last_hour: { ...hour, cache_hit_rate: hour.cache_lookups ? round(hour.cache_hits / hour.cache_lookups, 4) : 0 },
      latency_ms: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), p99: percentile(latencies, 0.99), samples: latencies.length },
      series,
      by_intent: sortedRecord(intents),
      by_rule: sortedRecord(rules),
      by_provider: sortedRecord(providers),
      recent: this.entries(recentLimit),
    };
  }
}
