/**
 * The request outcome: one plain object per finished request that metrics and the activity feed both read, and the pure
 * function that derives it from a finished RequestContext (route decision, cache and intent facts, attempts, usage).
 * Nothing here holds prompt text: only ids, names from config, numbers and statuses.
 */
import type { GatewayError } from '../errors.js';
import type { FailureClass } from '../llm/failure.js';
import type { RequestContext, RequestType } from '../pipeline/context.js';
import type { Usage } from '../providers/types.js';

export type CacheResult = 'hit-exact' | 'hit-semantic' | 'miss' | 'bypass' | 'skip';

export interface AttemptOutcome {
  provider: string;
  model: string;
  keyId: string;
  status: number | 'error';
  latencyMs: number;
  /** The failure class of a failed attempt. */
  failure?: FailureClass;
}

export interface RequestOutcome {
  requestType: RequestType;
  /** HTTP status sent to the caller. */
  status: number;
  /** GatewayError code (or type) when the request failed. */
  errorCode?: string;
  /** The failure class when the request failed. */
  failure?: FailureClass;
  /** Set when a policy refused the request (governance: budget_exceeded, rate_limit_exceeded, permission_denied, ...). */
  denial?: string;
  /** Provider and model that answered (the last attempt), when an upstream was called. */
  provider?: string;
  model?: string;
  /** The model (or alias) the caller asked for. */
  requestedModel?: string;
  rule?: string;
  intent?: string;
  cache?: CacheResult;
  /** Whether the request's semantic work (embedding, cache lookup) finished within its budget; absent when it had none. */
  semantic?: 'ready' | 'degraded';
  /** Why it was degraded: busy (the embedder's queue was full), timeout or lagging (the event loop was late). */
  semanticReason?: string;
  attempts: readonly AttemptOutcome[];
  /** Arrival to reply finished (the last byte of a stream). */
  durationMs: number;
  /** Arrival to first byte of a streamed reply. */
  ttfbMs?: number;
  stream: boolean;
  usage?: Usage;
  /** For the activity feed only. */
  id?: string;
  intentScore?: number;
  cacheSimilarity?: number;
}

const CACHE_RESULTS: ReadonlySet<string> = new Set(['hit-exact', 'hit-semantic', 'miss', 'bypass', 'skip']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Intent facts: a bare name (its score in `intent_score`) or an object ({ intent | name, score }). */
export function intentOf(facts: Record<string, unknown>): { intent?: string; score?: number } {
  const f = facts.intent;
  if (typeof f === 'string') return { intent: f, score: num(facts.intent_score) };
  if (isObject(f)) return { intent: str(f.intent) ?? str(f.name), score: num(f.score) ?? num(f.intent_score) };
  return {};
}

/** The cache stage's facts: its outcome and the similarity of the hit (or of the best candidate of a miss). */
export function cacheOf(facts: Record<string, unknown>): { cache?: CacheResult; similarity?: number } {
  const f = facts.cache;
  if (typeof f === 'string') return CACHE_RESULTS.has(f) ? { cache: f as CacheResult } : {};
  if (!isObject(f)) return {};
  const o = f.outcome;
  const cache = typeof o === 'string' && CACHE_RESULTS.has(o) ? (o as CacheResult) : undefined;
  const best = isObject(f.best) ? num(f.best.score) ?? num(f.best.similarity) : num(f.best);
  return { cache, similarity: num(f.similarity) ?? best };
}

/** The semantic budget's outcome (src/pipeline/semantic-budget.ts SemanticOutcome). */
function semanticOf(facts: Record<string, unknown>): { semantic?: 'ready' | 'degraded'; reason?: string } {
  const f = facts.semantic;
  if (!isObject(f) || (f.state !== 'ready' && f.state !== 'degraded')) return {};
  return { semantic: f.state, reason: str(f.reason) };
}

/** Time to first byte of a streamed reply, when the timing stage measured it. */
export const TTFB_FACT = 'ttfb_ms';

/**
 * Derives the outcome of a finished request from its context. `status`, `error` and `durationMs` are what the HTTP edge
 * reports when the reply is finished (RequestOutcome of src/server/app.ts).
 */
export function outcomeOf(ctx: RequestContext, status: number, durationMs: number, error?: GatewayError): RequestOutcome {
  const attempts = ctx.attempts;
  const last = attempts.length > 0 ? attempts[attempts.length - 1] : undefined;
  const { intent, score } = intentOf(ctx.facts);
  const { cache, similarity } = cacheOf(ctx.facts);
  const sem = semanticOf(ctx.facts);
  return {
    requestType: ctx.requestType,
    status,
    errorCode: error ? (error.code ?? error.type) : undefined,
    failure: error?.failure,
    denial: error?.fault === 'policy' ? (error.code ?? error.type) : undefined,
    provider: last?.provider,
    model: last?.model,
    requestedModel: ctx.model,
    rule: ctx.route?.rule,
    intent,
    cache,
    semantic: sem.semantic,
    semanticReason: sem.reason,
    attempts,
    durationMs,
    ttfbMs: num(ctx.facts[TTFB_FACT]),
    stream: ctx.stream,
    usage: ctx.usage,
    id: ctx.id,
    intentScore: score,
    cacheSimilarity: similarity,
  };
}

/** Time spent calling upstreams (sum of attempt latencies; for streams each attempt's latency is its time to first part). */
export function upstreamMs(attempts: readonly AttemptOutcome[]): number {
  let t = 0;
  for (const a of attempts) t += a.latencyMs;
  return t;
}

/**
 * The gateway's own share of a request's latency: total minus upstream time for JSON replies; for streams, time to first
 * byte minus upstream time to first part (the rest of a stream is the upstream's pace). Undefined when not measurable.
 */
export function overheadMs(o: RequestOutcome): number | undefined {
  const total = o.stream ? o.ttfbMs : o.durationMs;
  if (total === undefined) return undefined;
  return Math.max(0, total - upstreamMs(o.attempts));
}

/** Number of provider switches in the attempt list (fallbacks to another provider). */
export function fallbackCount(attempts: readonly AttemptOutcome[]): number {
  let n = 0;
  for (let i = 1; i < attempts.length; i++) if (attempts[i].provider !== attempts[i - 1].provider) n++;
  return n;
}
