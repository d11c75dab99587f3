/**
 * The cache stage. `before` looks the request up (exact key, then a flight in progress, then the semantic layer) and
 * short-circuits with the cached reply on a hit — JSON, or a replayed stream for streaming requests — leaving ctx.usage
 * undefined since a hit costs nothing. On a miss it leads a single-flight and `after` captures the reply (observing a stream
 * to its end) and stores it only if it completed successfully. `failed` releases the flight so followers go upstream.
 * Every wait of the lookup is bounded by the request's semantic budget: a lookup that cannot finish in time (no embedding
 * within the budget, a slow store) is skipped as "overload" — counted, never an error — and nothing is stored for it.
 * Runs once per request.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { afterReply } from '../pipeline/after-reply.js';
import { clientAbortOf, type RequestContext } from '../pipeline/context.js';
import { SemanticUnavailable, type SemanticBudget } from '../pipeline/semantic-budget.js';
import { observeStream, type Stage } from '../pipeline/stage.js';
import type { ProviderReply, StreamPart } from '../providers/types.js';
import type { Candidate } from './local-index.js';
import { fromJsonReply, jsonReplyOf, replayParts, StreamCapture, type CachedReply } from './reply.js';
import { isSkip, requestKey, tenantScope, type KeyResult, type RequestKey } from './request-key.js';
import type { Hit, SemanticCache } from './semantic-cache.js';
import type { CacheConfig } from './config.js';
import type { SkipOrBypass } from './stats.js';
import { RequestLocal } from '../pipeline/request-local.js';

export interface CacheStageDeps {
  cache: SemanticCache;
  /** The request's embedding (of its text to embed); expected to be memoised per request by the caller. */
  embed: (ctx: RequestContext) => Promise<Float32Array>;
  /** The request's semantic budget; without it the lookup's waits are not bounded. */
  budget?: (ctx: RequestContext) => SemanticBudget;
  /** The request's intent, used only when per-intent thresholds are configured. */
  intent?: (ctx: RequestContext) => Promise<string | undefined>;
  logger: Logger;
}

export type CacheOutcome = 'hit-exact' | 'hit-semantic' | 'miss' | 'bypass' | 'skip';
type Mode = 'normal' | 'bypass' | 'no-store' | 'refresh';

interface RequestState {
  /** The cache settings this request started with (a config reload may swap them while it runs). */
  cfg: CacheConfig;
  key: KeyResult;
  vector?: Promise<Float32Array | undefined>;
  candidates?: Promise<Candidate[]>;
  intent?: string;
  /** The embedding could not be had within the request's semantic budget. */
  overloaded?: boolean;
  /** Set by `before` on a miss that should be stored. */
  store?: { key: RequestKey; ttlS: number; leader: boolean };
}

const states = new RequestLocal<RequestState>('cache');

const HEADER = 'x-switchyard-cache';

function stateOf(ctx: RequestContext, deps: CacheStageDeps): RequestState {
  let s = states.get(ctx);
  if (s === undefined) {
    const cfg = deps.cache.config;
    s = { cfg, key: cfg.enabled ? requestKey(ctx, cfg) : { skip: 'disabled' } };
    states.set(ctx, s);
  }
  return s;
}

function vectorOf(ctx: RequestContext, deps: CacheStageDeps, s: RequestState): Promise<Float32Array | undefined> {
  s.vector ??= deps.embed(ctx).catch((err: unknown) => {
    if (err instanceof SemanticUnavailable) {
      s.overloaded = true;
      return undefined;
    }
    deps.logger.warn({ requestId: ctx.id, err: (err as Error)?.message }, 'embedding for the cache failed; semantic lookup skipped');
    return undefined;
  });
  return s.vector;
}

function candidatesOf(ctx: RequestContext, deps: CacheStageDeps, s: RequestState, key: RequestKey): Promise<Candidate[]> {
  s.candidates ??= vectorOf(ctx, deps, s).then((v) => (v === undefined ? [] : deps.cache.candidates(key.partition, v)));
  return s.candidates;
}

/**
 * The rules variable `cache_similarity`: the best candidate's similarity in the request's partition, 0 when there is none
 * or the request is not cached. Memoised per request; the cache stage reuses the search.
 */
async function similarityOf(ctx: RequestContext, deps: CacheStageDeps): Promise<number> {
  const s = stateOf(ctx, deps);
  if (isSkip(s.key) || s.key.text === undefined || !s.cfg.semantic) return 0;
  const c = await candidatesOf(ctx, deps, s, s.key);
  return c.length > 0 ? Math.max(0, c[0].score) : 0;
}

/** `work`, bounded by the request's semantic budget (the wait, not the work, is given up: see SemanticBudget.within). */
function bounded<T>(ctx: RequestContext, deps: CacheStageDeps, work: Promise<T>): Promise<T> {
  return deps.budget === undefined ? work : deps.budget(ctx).within(work, 'cache');
}

/** Whether a lookup wait ran out of budget: the request is then marked degraded by the cache. */
function overBudget(ctx: RequestContext, deps: CacheStageDeps, err: unknown): boolean {
  if (!(err instanceof SemanticUnavailable)) return false;
  deps.budget?.(ctx).degrade(err.reason, err.stage);
  return true;
}

function modeOf(ctx: RequestContext): Mode {
  const h = ctx.headers[HEADER]?.trim().toLowerCase();
  return h === 'bypass' || h === 'no-store' || h === 'refresh' ? h : 'normal';
}

function intentLabel(ctx: RequestContext, s: RequestState): string {
  const f = ctx.facts.intent;
  if (typeof f === 'string') return f;
  if (f && typeof f === 'object') {
    const n = (f as { intent?: unknown; name?: unknown }).intent ?? (f as { name?: unknown }).name;
    if (typeof n === 'string') return n;
  }
  return s.intent ?? 'none';
}

async function thresholdOf(ctx: RequestContext, deps: CacheStageDeps, s: RequestState): Promise<number> {
  const { cfg } = s;
  let t = ctx.route?.cache?.threshold;
  if (t === undefined && deps.intent !== undefined && Object.keys(cfg.intent_thresholds).length > 0) {
    s.intent = (await deps.intent(ctx).catch(() => undefined)) ?? undefined;
    if (s.intent !== undefined) t = cfg.intent_thresholds[s.intent];
  }
  t ??= cfg.threshold;
  const raw = ctx.headers['x-switchyard-cache-threshold'];
  if (raw !== undefined) {
    const h = Number(raw);
    if (!Number.isFinite(h) || h < 0 || h > 1) ctx.warnings.push(`x-switchyard-cache-threshold: '${raw}' is not a number in [0, 1]; ignored`);
    else if (h > t) t = h;
    else if (h < t) ctx.warnings.push(`x-switchyard-cache-threshold: ${h} is below the effective threshold ${t}; it may only raise it, ignored`);
  }
  return t;
}

function ttlOf(ctx: RequestContext, cfg: CacheConfig): number {
  const raw = ctx.headers['x-switchyard-cache-ttl'];
  let ttl = ctx.route?.cache?.ttl_s ?? cfg.ttl_s;
  if (raw !== undefined) {
    const h = Number(raw);
    if (Number.isInteger(h) && h > 0) ttl = h;
    else ctx.warnings.push(`x-switchyard-cache-ttl: '${raw}' is not a positive whole number of seconds; ignored`);
  }
  if (ttl > cfg.max_ttl_s) {
    ctx.warnings.push(`cache TTL ${ttl}s exceeds cache.max_ttl_s; ${cfg.max_ttl_s}s used`);
    ttl = cfg.max_ttl_s;
  }
  return ttl;
}

async function* fromArray(parts: StreamPart[]): AsyncGenerator<StreamPart> { yield* parts; }

function replyFor(ctx: RequestContext, cached: CachedReply): ProviderReply {
  if (!ctx.stream) return jsonReplyOf(cached);
  const opts = ctx.body.stream_options as { include_usage?: unknown } | undefined;
  return { kind: 'stream', status: 200, parts: fromArray(replayParts(cached, opts?.include_usage === true)) };
}

export function createCacheStage(deps: CacheStageDeps): Stage & { similarity: (ctx: RequestContext) => Promise<number> } {
  const { cache, logger } = deps;

  const outcome = (ctx: RequestContext, o: CacheOutcome, facts: Record<string, unknown>): void => {
    ctx.replyHeaders[HEADER] = o;
    ctx.facts.cache = { outcome: o, ...facts };
  };

  const skip = (ctx: RequestContext, s: RequestState, reason: SkipOrBypass): void => {
    const tenant = isSkip(s.key) ? tenantScope(ctx.caller, s.cfg.partition_by) : s.key.tenant;
    cache.stats.record({ type: 'skip', reason, tenant, model: ctx.model, intent: intentLabel(ctx, s) });
    outcome(ctx, reason === 'bypass' ? 'bypass' : 'skip', { reason });
  };

  const serve = (ctx: RequestContext, s: RequestState, key: RequestKey, hit: Hit, layer: 'exact' | 'semantic', coalesced: boolean, threshold?: number): ProviderReply => {
    cache.recordHit(hit, layer, { tenant: key.tenant, model: ctx.model, intent: intentLabel(ctx, s) }, coalesced);
    // The cached reply's usage: what the hit avoided paying (the spend ledger prices it).
    outcome(ctx, layer === 'exact' ? 'hit-exact' : 'hit-semantic', { key: hit.entry?.meta.key ?? key.exact, similarity: hit.score, threshold, coalesced, usage: hit.reply.usage });
    ctx.replyHeaders['x-switchyard-cache-similarity'] = hit.score.toFixed(4);
    // A hit is answered by the cache: no upstream attempt; the model is the one the stored reply names.
    ctx.replyHeaders['x-switchyard-provider'] = 'cache';
    ctx.replyHeaders['x-switchyard-model'] = hit.reply.model ?? ctx.model;
    return replyFor(ctx, hit.reply);
  };

  async function before(ctx: RequestContext): Promise<ProviderReply | void> {
    const s = stateOf(ctx, deps);
    if (isSkip(s.key)) return skip(ctx, s, s.key.skip);
    const { key, cfg } = s;
    if (ctx.route?.cache?.enabled === false) return skip(ctx, s, 'policy');
    let mode = modeOf(ctx);
    // The safety stage marks requests whose replies must not be kept (they carried PII).
    if (mode === 'normal' && ctx.facts['cache_no_store'] === true) mode = 'no-store';
    if (mode === 'bypass') return skip(ctx, s, 'bypass');
    const labels = { tenant: key.tenant, model: ctx.model, intent: intentLabel(ctx, s) };

    let leader = false;
    if (mode !== 'refresh') {
      let exact;
      try {
        exact = await bounded(ctx, deps, cache.exact(key.exact));
      } catch (err) {
        if (overBudget(ctx, deps, err)) return skip(ctx, s, 'overload');
        throw err;
      }
      if (exact !== undefined) return serve(ctx, s, key, exact, 'exact', false);
      if (cfg.single_flight) {
        const waiting = cache.flights.follow(key.exact, cfg.single_flight_wait_ms, clientAbortOf(ctx));
        if (waiting !== undefined) {
          const shared = await waiting;
          if (shared !== undefined) return serve(ctx, s, key, { reply: shared, score: 1 }, 'exact', true);
        } else if (mode === 'normal') {
          // Lead before any further await so concurrent identical misses find the flight.
          leader = cache.flights.lead(key.exact);
        }
      }
    }
    if (leader) s.store = { key, ttlS: 0, leader };
    let facts: Record<string, unknown> = { key: key.exact, partition: key.partition };
    if (mode !== 'refresh' && cfg.semantic && key.text !== undefined) {
      try {
        const threshold = await thresholdOf(ctx, deps, s);
        const found = await candidatesOf(ctx, deps, s, key);
        const vector = await s.vector;
        if (s.overloaded) return overload(ctx, s);
        if (vector !== undefined) {
          const r = await bounded(ctx, deps, cache.semantic(key.text, key.partition, vector, threshold, found));
          for (const rej of r.rejected) cache.stats.record({ type: 'guard_reject', check: rej.check, similarity: rej.score, ...labels });
          if (r.hit !== undefined) {
            settle(s, r.hit.reply);
            s.store = undefined;
            return serve(ctx, s, key, r.hit, 'semantic', false, threshold);
          }
          facts = { ...facts, best: r.best, threshold, guard: r.rejected.length > 0 ? r.rejected.map((x) => x.check) : undefined };
        }
      } catch (err) {
        if (overBudget(ctx, deps, err)) return overload(ctx, s);
        settle(s, undefined);
        s.store = undefined;
        throw err;
      }
    }
    cache.stats.record({ type: 'miss', ...labels });
    outcome(ctx, mode === 'refresh' ? 'bypass' : 'miss', mode === 'normal' ? facts : { ...facts, mode });
    if (mode === 'no-store') return;
    s.store = { key, ttlS: ttlOf(ctx, cfg), leader };
  }

  /** The lookup ran out of budget: skipped for overload, the flight released, nothing stored. */
  function overload(ctx: RequestContext, s: RequestState): void {
    settle(s, undefined);
    s.store = undefined;
    skip(ctx, s, 'overload');
  }

  function settle(s: RequestState, value: CachedReply | undefined): void {
    if (s.store?.leader) cache.flights.settle(s.store.key.exact, value);
  }

  /**
   * Gives the flight's followers the reply and stores it. `afterWrite`: the store (the HNSW insert) waits until the reply
   * is written (../pipeline/after-reply.ts); the followers and the latency a hit will save are settled now.
   */
  function keep(ctx: RequestContext, s: RequestState, cached: CachedReply | undefined, afterWrite = false): void {
    settle(s, cached);
    const st = s.store;
    s.store = undefined;
    if (cached === undefined || st === undefined) return;
    const latencyMs = performance.now() - ctx.startedAt;
    const stored = async (): Promise<void> => {
      const vector = st.key.text !== undefined && s.cfg.semantic ? await vectorOf(ctx, deps, s) : undefined;
      await cache.store(st.key, vector, cached, { model: ctx.model, intent: intentLabel(ctx, s), ttlS: st.ttlS, latencyMs });
    };
    const store = (): void => {
      stored().catch((err: unknown) => logger.warn({ requestId: ctx.id, err: (err as Error)?.message }, 'cache store failed'));
    };
    if (afterWrite) afterReply(ctx, store);
    else store();
  }

  return {
    name: 'cache',
    before,
    after(ctx, reply) {
      const s = states.get(ctx);
      if (s?.store === undefined) return reply;
      if (reply.kind === 'json') {
        // The flight's followers get the reply now; the HNSW insert is not on the reply's path.
        keep(ctx, s, fromJsonReply(ctx.op, reply, s.cfg.max_entry_kb * 1024), true);
        return reply;
      }
      if (reply.status < 200 || reply.status >= 300) { keep(ctx, s, undefined); return reply; }
      const capture = new StreamCapture(ctx.op, s.cfg.max_entry_kb * 1024);
      return observeStream(reply, (p) => capture.onPart(p), (end) => keep(ctx, s, end.outcome === 'done' ? capture.result() : undefined));
    },
    failed(ctx) {
      const s = states.get(ctx);
      if (s !== undefined) { settle(s, undefined); s.store = undefined; }
    },
    similarity: (ctx: RequestContext) => similarityOf(ctx, deps),
  };
}
