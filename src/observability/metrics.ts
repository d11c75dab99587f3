/**
 * Prometheus metrics on a registry of their own. `recordRequest` is the main entry point, called once per finished request
 * with its outcome; retries, fallbacks, upstream time and gateway overhead are derived from the attempts. Events that happen
 * outside a request's end (embedding batches, rule errors, cache events, governance denials) have small methods of their own.
 * Provider and key circuit states are read from the health registry at scrape time.
 *
 * Labels are bounded: tenant-level ids never become labels; provider, model, rule and intent names come from config and
 * are still capped per label (values past the cap are counted as "other"). A model the config does not name (a caller's
 * `provider/<model>`, passed through) is counted as "other" once the gateway gives the names (`setModelFilter`).
 */
import { Router, type Request, type Response } from 'express';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ProviderHealthView } from '../providers/health-registry.js';
import { DeferredCounter, DeferredHistogram, LabelSpace, OTHER } from './labels.js';
import { overheadMs, type RequestOutcome } from './outcome.js';

export interface MetricsOptions {
  /** Distinct values kept per label before the rest are counted as "other" (default 200). */
  labelCap?: number;
  /** Node.js process metrics (CPU, memory, event loop, GC) on the same registry (default true). */
  defaultMetrics?: boolean;
  /** The health registry snapshot, read at scrape time for circuit-state gauges. */
  health?: () => Record<string, ProviderHealthView>;
}

/** The shape of a cache statistics event (src/cache/stats.ts CacheEvent is assignable to it). */
export interface CacheEventLike {
  type: string;
  layer?: string;
  reason?: string;
  check?: string;
  operation?: string;
  similarity?: number;
}

/** What the spend counters read from a ledger entry. */
export interface SpendSample {
  provider: string;
  model: string;
  rule: string;
  costUsd: number;
  savedRoutingUsd: number;
  savedCacheUsd: number;
}

export interface Metrics {
  readonly registry: Registry;
  /** One finished request (proxied or served from the cache, successful or not). */
  recordRequest(o: RequestOutcome): void;
  /** One embedding model call: its latency and how many texts it embedded. */
  embedding(latencyMs: number, batchSize: number): void;
  /** A routing rule's expression failed at run time. */
  ruleError(rule: string): void;
  /** A cascade moved from one tier to the next: the rule, and why the tier's answer failed. */
  cascadeEscalation(rule: string, reason: string): void;
  /** A cache event: kind (hit, miss, skip, guard_reject, store, evict, store_error) and its reason/layer/check. */
  cacheEvent(kind: string, reason?: string): void;
  /** Adapter for the cache statistics listener: `cache.stats.onEvent(metrics.cacheStatsEvent)`. */
  readonly cacheStatsEvent: (e: CacheEventLike) => void;
  /**
   * A governance refusal that does not end a request through recordRequest. Requests refused by a policy-fault error
   * (budget_exceeded, rate_limit_exceeded, ...) are already counted by recordRequest from their outcome.
   */
  denial(kind: string): void;
  /**
   * One request's spend as the ledger recorded it (USD): its cost by provider, model and rule, and its savings by rule and
   * source (routing, cache); a routing choice that cost more than the baseline counts as overspend instead.
   */
  spend(s: SpendSample): void;
  /** An error that escaped its request's handling (or the process's), caught by the last resort: counted by where. */
  unexpected(where: string): void;
  /** Replaces the source of the degraded share gauge (the activity feed's last minute), read at scrape time. */
  setDegradedShareSource(source: (() => number) | undefined): void;
  /** Replaces the source of the requests-in-flight gauge (admission's count, server.max_in_flight), read at scrape time. */
  setInFlightSource(source: (() => number) | undefined): void;
  /**
   * Replaces the test of which models may be `model` label values (the models the config names: ./model-names.ts); any
   * other is counted as "other". Unset: every model is (up to the label cap).
   */
  setModelFilter(named: ((provider: string, model: string) => boolean) | undefined): void;
  /** Replaces the health snapshot source used at scrape time. */
  setHealthSource(source: (() => Record<string, ProviderHealthView>) | undefined): void;
  /** The exposition text. */
  render(): Promise<string>;
  readonly contentType: string;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const TTFB_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const EMBED_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const SIMILARITY_BUCKETS = [0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.999, 1];
const STATES = ['healthy', 'degraded', 'half_open', 'open'] as const;

const STATUS_CLASS = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
const statusClass = (s: number): string => STATUS_CLASS[Math.floor(s / 100)] ?? 'other';

const REQUEST_LABELS = ['request_type', 'status_class', 'code', 'provider', 'model', 'rule', 'intent', 'cache'] as const;

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const space = new LabelSpace(opts.labelCap ?? 200);
  let health = opts.health;
  let degradedShare: (() => number) | undefined;
  let inFlight: (() => number) | undefined;
  let named: ((provider: string, model: string) => boolean) | undefined;
  const modelLabel = (provider: string | undefined, model: string | undefined): string | undefined =>
    named === undefined || provider === undefined || model === undefined || named(provider, model) ? model : OTHER;
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const counter = (name: string, help: string, labelNames: readonly string[]) => new DeferredCounter(registry, name, help, labelNames, space);
  const histogram = (name: string, help: string, labelNames: readonly string[], buckets: number[]) =>
    new DeferredHistogram(registry, name, help, labelNames, buckets, space);

  const requests = counter('switchyard_requests_total', 'Requests finished, by request type, status, answering provider/model, rule, intent and cache result.', REQUEST_LABELS);
  const errors = counter('switchyard_request_errors_total', 'Requests that ended in an error, by request type, HTTP status, error code and failure class.', ['request_type', 'code', 'error_code', 'failure']);
  const duration = histogram('switchyard_request_duration_seconds', 'Arrival to reply finished (last byte of a stream).', ['request_type', 'status_class'], LATENCY_BUCKETS);
  const upstream = histogram('switchyard_upstream_latency_seconds', 'Latency of one upstream attempt (time to first part for streams).', ['provider', 'outcome'], LATENCY_BUCKETS);
  const attempts = counter('switchyard_upstream_attempts_total', 'Upstream attempts by provider, key, upstream status and failure class (none for a success).', ['provider', 'key', 'code', 'failure']);
  const overhead = histogram('switchyard_gateway_overhead_seconds', "The gateway's own time: total (time to first byte for streams) minus upstream time.", ['request_type', 'source'], OVERHEAD_BUCKETS);
  const ttfb = histogram('switchyard_stream_ttfb_seconds', 'Arrival to the first byte of a streamed reply, by who served it.', ['provider'], TTFB_BUCKETS);
  const retried = counter('switchyard_retried_requests_total', 'Requests that needed more than one upstream attempt.', ['request_type']);
  const retries = counter('switchyard_retries_total', 'Upstream attempts after the first one, by the provider tried.', ['provider']);
  const fallbacks = counter('switchyard_fallbacks_total', 'Attempts that moved to another provider.', ['from_provider', 'to_provider']);
  const tokens = counter('switchyard_tokens_total', 'Tokens of delivered upstream replies, by provider, model and kind.', ['provider', 'model', 'kind']);
  const cache = counter('switchyard_cache_events_total', 'Cache events: hit (by layer), miss, skip and bypass (by reason), guard_reject (by check), store, evict, store_error.', ['kind', 'reason']);
  const similarity = histogram('switchyard_cache_hit_similarity', 'Similarity of cache hits (exact hits count as 1).', ['layer'], SIMILARITY_BUCKETS);
  const embedLatency = histogram('switchyard_embedding_latency_seconds', 'Latency of one embedding model call (one batch).', [], EMBED_BUCKETS);
  const embedBatch = histogram('switchyard_embedding_batch_size', 'Texts embedded per model call.', [], BATCH_BUCKETS);
  const ruleErrors = counter('switchyard_rule_errors_total', 'Run-time failures of routing rule expressions, by rule.', ['rule']);
  const escalations = counter('switchyard_cascade_escalations_total', 'Cascade escalations to the next tier, by rule and failed check.', ['rule', 'reason']);
  const denials = counter('switchyard_denials_total', 'Requests refused by governance, by kind (budget, rate limit, allow-list).', ['kind']);
  const semantic = counter('switchyard_semantic_requests_total', 'Requests that needed semantic work (embedding, cache lookup), by state: ready, or degraded (went on without it) with the reason: busy (embedder queue full), timeout (semantic.max_wait_ms) or lagging (the event loop was later than the budget).', ['state', 'reason']);
  const cost = counter('switchyard_cost_usd_total', 'Spend in USD at list prices (governance pricing), by answering provider, model and routing rule.', ['provider', 'model', 'rule']);
  const saved = counter('switchyard_saved_usd_total', 'Estimated USD saved against the baseline model, by routing rule and source (routing, cache).', ['rule', 'source']);
  const overspend = counter('switchyard_routing_overspend_usd_total', 'Estimated USD routing spent above the baseline model (net savings = saved − overspend), by rule.', ['rule']);
  const unexpected = counter('switchyard_unexpected_errors_total', 'Errors caught by the last-resort handler (a bug, logged with its stack), by where: request, route, process.', ['where']);

  new Gauge({
    name: 'switchyard_circuit_state',
    help: 'Circuit state of each provider key: 1 for the current state, 0 for the others.',
    labelNames: ['provider', 'key', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [provider, p] of Object.entries(health?.() ?? {})) {
        for (const k of p.keys) for (const s of STATES) this.labels(provider, k.id, s).set(k.state === s ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'switchyard_provider_state',
    help: 'State of each provider (open when no key is available): 1 for the current state, 0 for the others.',
    labelNames: ['provider', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [provider, p] of Object.entries(health?.() ?? {})) for (const s of STATES) this.labels(provider, s).set(p.state === s ? 1 : 0);
    },
  });
  new Gauge({
    name: 'switchyard_provider_available_keys',
    help: 'Keys of each provider whose circuit lets requests through.',
    labelNames: ['provider'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [provider, p] of Object.entries(health?.() ?? {})) this.labels(provider).set(p.available_keys);
    },
  });
  new Gauge({
    name: 'switchyard_key_in_flight',
    help: 'Upstream requests in flight per provider key.',
    labelNames: ['provider', 'key'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [provider, p] of Object.entries(health?.() ?? {})) for (const k of p.keys) this.labels(provider, k.id).set(k.in_flight);
    },
  });
  new Gauge({
    name: 'switchyard_key_error_rate',
    help: 'Error rate of each provider key over the health window (0..1).',
    labelNames: ['provider', 'key'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [provider, p] of Object.entries(health?.() ?? {})) for (const k of p.keys) this.labels(provider, k.id).set(k.error_rate);
    },
  });

  new Gauge({
    name: 'switchyard_requests_in_flight',
    help: 'Proxied requests being served now (bounded by server.max_in_flight, shared fairly between virtual keys).',
    registers: [registry],
    collect() {
      this.set(inFlight?.() ?? 0);
    },
  });

  new Gauge({
    name: 'switchyard_semantic_degraded_share',
    help: 'Share (0..1) of the last minute\'s requests with semantic work that went on without it (semantic budget exceeded).',
    registers: [registry],
    collect() {
      this.set(degradedShare?.() ?? 0);
    },
  });

  const cacheEvent = (kind: string, reason?: string): void => {
    cache.inc([kind, reason]);
  };

  return {
    registry,
    contentType: registry.contentType,

    recordRequest(o: RequestOutcome): void {
      const rt = o.requestType;
      const sc = statusClass(o.status);
      const code = String(o.status);
      const hit = o.cache === 'hit-exact' || o.cache === 'hit-semantic';
      const model = modelLabel(o.provider, o.model);
      requests.inc([rt, sc, code, o.provider, model, o.rule, o.intent, o.cache]);
      duration.observe([rt, sc], o.durationMs / 1000);
      if (o.status >= 400 || o.errorCode !== undefined) errors.inc([rt, code, o.errorCode, o.failure]);
      if (o.denial !== undefined) denials.inc([o.denial]);
      if (o.semantic !== undefined) semantic.inc([o.semantic, o.semanticReason ?? 'none']);

      const list = o.attempts;
      for (let i = 0; i < list.length; i++) {
        const a = list[i];
        const ok = a.status !== 'error' && a.status < 400;
        attempts.inc([a.provider, a.keyId, String(a.status), a.failure]);
        upstream.observe([a.provider, ok ? 'success' : 'error'], a.latencyMs / 1000);
        if (i > 0) {
          retries.inc([a.provider]);
          const from = list[i - 1].provider;
          if (from !== a.provider) fallbacks.inc([from, a.provider]);
        }
      }
      if (list.length > 1) retried.inc([rt]);

      const source = list.length > 0 ? 'upstream' : hit ? 'cache' : 'gateway';
      const over = overheadMs(o);
      if (over !== undefined) overhead.observe([rt, source], over / 1000);
      if (o.stream && o.ttfbMs !== undefined) ttfb.observe([hit ? 'cache' : o.provider], o.ttfbMs / 1000);
      if (o.usage !== undefined && !hit && o.provider !== undefined) {
        if (o.usage.prompt_tokens > 0) tokens.inc([o.provider, model, 'prompt'], o.usage.prompt_tokens);
        if (o.usage.completion_tokens > 0) tokens.inc([o.provider, model, 'completion'], o.usage.completion_tokens);
      }
    },

    embedding(latencyMs: number, batchSize: number): void {
      embedLatency.observe([], latencyMs / 1000);
      embedBatch.observe([], batchSize);
    },

    ruleError(rule: string): void {
      ruleErrors.inc([rule]);
    },

    cascadeEscalation(rule: string, reason: string): void {
      escalations.inc([rule, reason]);
    },

    cacheEvent,

    cacheStatsEvent(e: CacheEventLike): void {
      cacheEvent(e.type, e.layer ?? e.reason ?? e.check ?? e.operation);
      if (e.type === 'hit' && e.similarity !== undefined) similarity.observe([e.layer], e.similarity);
    },

    denial(kind: string): void {
      denials.inc([kind]);
    },

    spend(x: SpendSample): void {
      if (x.costUsd > 0) cost.inc([x.provider, modelLabel(x.provider, x.model), x.rule], x.costUsd);
      if (x.savedRoutingUsd > 0) saved.inc([x.rule, 'routing'], x.savedRoutingUsd);
      else if (x.savedRoutingUsd < 0) overspend.inc([x.rule], -x.savedRoutingUsd);
      if (x.savedCacheUsd > 0) saved.inc([x.rule, 'cache'], x.savedCacheUsd);
    },

    unexpected(where: string): void {
      unexpected.inc([where]);
    },

    setInFlightSource(source) {
      inFlight = source;
    },
    setDegradedShareSource(source) {
      degradedShare = source;
    },

    setModelFilter(filter) {
      named = filter;
    },

    setHealthSource(source) {
      health = source;
    },

    render(): Promise<string> {
      return registry.metrics();
    },
  };
}

/** `GET /metrics` in the Prometheus text format. Mount behind the admin key. */
export function metricsRouter(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', async function serveMetrics(_req: Request, res: Response): Promise<void> {
    const body = await metrics.render();
    res.setHeader('content-type', metrics.contentType);
    res.setHeader('cache-control', 'no-store');
    res.end(body);
  });
  return router;
}
