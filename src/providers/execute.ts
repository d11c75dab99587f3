/**
 * The provider chain executor: for each target in the route's chain, pick a key (adaptive balancer, circuit state), call the
 * adapter, and when the attempt fails do what its failure class says (src/llm/failure.ts): stop, or try another key of the
 * same provider (bounded), then the next target — within a global attempt cap and a total deadline. A streamed attempt must
 * produce its first part within the provider's first-byte deadline, or it is abandoned and counted against the key at that
 * moment. Streams are handed on once their first part arrived; a break after that is an error part, never a fallback. Runs
 * once per request; each attempt is recorded on the context and, with tracing on, gets a span whose W3C trace context the
 * upstream call carries.
 */
import { GatewayError, internalError } from '../errors.js';
import { actionOf } from '../llm/failure.js';
import type { AttemptSpan } from '../observability/tracing.js';
import type { RequestContext, Target } from '../pipeline/context.js';
import { observeStream } from '../pipeline/stage.js';
import type { HealthRegistry } from './health-registry.js';
import type { KeyHealth } from './key-health.js';
import { selectKey, type PoolKey } from './key-selector.js';
import type { ProviderAdapter, ProviderReply, StreamReply, Usage } from './types.js';

export interface ProviderRuntime {
  name: string;
  adapter: ProviderAdapter;
  keys: PoolKey[];
  timeoutMs: number;
  /** Deadline for a streamed attempt's first part (≤ timeoutMs). */
  firstByteTimeoutMs: number;
}

export interface ExecuteSettings {
  maxAttempts: number;
  maxKeysPerTarget: number;
  deadlineMs: number;
  floorShare: number;
}

/** Request headers forwarded upstream (everything else — auth, cookies, hop-by-hop — stays at the gateway). */
const FORWARDED = ['openai-organization', 'openai-project', 'x-stainless-arch', 'anthropic-beta'];

/** The headers an attempt sends on: the allow-listed client headers, and with tracing on the attempt's W3C trace context. */
function forwardHeaders(ctx: RequestContext, span: AttemptSpan | undefined): Record<string, string> {
  const out: Record<string, string> = { 'x-request-id': ctx.id };
  for (const h of FORWARDED) if (ctx.headers[h]) out[h] = ctx.headers[h];
  if (span !== undefined) Object.assign(out, span.headers);
  return out;
}

function noUpstream(chain: readonly Target[], last: GatewayError | undefined): GatewayError {
  if (last) return last;
  return new GatewayError({
    status: 503,
    message: `No healthy upstream for ${chain.map((t) => `${t.provider}/${t.model}`).join(', ')}: every key is open or cooling down.`,
    type: 'service_unavailable',
    code: 'no_healthy_upstream',
    failure: 'upstream',
  });
}

const firstByteMissed = (provider: string, ms: number): GatewayError => new GatewayError({
  status: 504, message: `Upstream ${provider} sent no first byte within ${Math.round(ms)} ms`, type: 'timeout_error',
  code: 'upstream_first_byte_timeout', failure: 'upstream',
});

/**
 * One adapter call. A streamed call runs under the first-byte deadline: when it passes, the attempt is aborted and fails as
 * an upstream timeout (the client's own abort still reads as the client's).
 */
async function attempt(ctx: RequestContext, provider: ProviderRuntime, target: Target, key: PoolKey, health: KeyHealth, remaining: number, span: AttemptSpan | undefined): Promise<ProviderReply> {
  const source = ctx.upstreamBody ?? ctx.body;
  const body = source.model === target.model ? source : { ...source, model: target.model };
  const timeoutMs = Math.min(provider.timeoutMs, remaining);
  const call = (signal: AbortSignal): Promise<ProviderReply> => provider.adapter.call({
    op: ctx.op,
    model: target.model,
    body: body as Record<string, unknown>,
    stream: ctx.stream,
    // The caller's own request goes only where nothing rewrote the request (redaction, a cascade tier's body).
    ...(ctx.native !== undefined && ctx.upstreamBody === undefined ? { native: ctx.native } : {}),
    apiKey: key.value,
    headers: forwardHeaders(ctx, span),
    signal,
    timeoutMs,
    onHeaders: (info) => health.noteRateLimit(info, Date.now()),
  });
  if (!ctx.stream || ctx.op === 'embedding') return call(ctx.signal);
  const deadlineMs = Math.min(provider.firstByteTimeoutMs, timeoutMs);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), deadlineMs);
  try {
    return await call(AbortSignal.any([ctx.signal, deadline.signal]));
  } catch (err) {
    if (deadline.signal.aborted && !ctx.signal.aborted) throw firstByteMissed(provider.name, deadlineMs);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export async function executeChain(
  ctx: RequestContext,
  providers: ReadonlyMap<string, ProviderRuntime>,
  registry: HealthRegistry,
  settings: ExecuteSettings,
): Promise<ProviderReply> {
  const chain = ctx.route?.chain ?? [];
  const deadline = performance.now() + settings.deadlineMs;
  let lastError: GatewayError | undefined;
  let attempts = 0;

  for (const target of chain) {
    const provider = providers.get(target.provider);
    if (!provider) continue;
    const tried = new Set<string>();
    for (let k = 0; k < settings.maxKeysPerTarget; k++) {
      if (attempts >= settings.maxAttempts || ctx.signal.aborted) throw noUpstream(chain, lastError);
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        throw new GatewayError({ status: 504, message: 'The request deadline passed before any upstream answered.', type: 'timeout_error', code: 'deadline_exceeded', failure: 'upstream' });
      }
      const picked = selectKey(provider.keys, (id) => registry.key(provider.name, id), target.model, tried, Date.now(), settings.floorShare);
      if (!picked) break;
      tried.add(picked.key.id);
      attempts++;
      const { health } = picked;
      const span = ctx.trace?.attempt({ provider: provider.name, kind: provider.adapter.kind, model: target.model, keyId: picked.key.id });
      const started = performance.now();
      health.start();
      try {
        const reply = await attempt(ctx, provider, target, picked.key, health, remaining, span);
        const latencyMs = performance.now() - started;
        ctx.attempts.push({ provider: provider.name, model: target.model, keyId: picked.key.id, status: reply.status, latencyMs });
        ctx.replyHeaders['x-switchyard-provider'] = provider.name;
        ctx.replyHeaders['x-switchyard-model'] = target.model;
        if (reply.warnings?.length) ctx.warnings.push(...reply.warnings);
        span?.replied(reply);
        if (reply.kind === 'json') {
          health.succeed(Date.now(), latencyMs);
          ctx.usage = reply.usage;
          return reply;
        }
        health.firstByte(latencyMs);
        return trackStream(ctx, reply, health, latencyMs, span);
      } catch (err) {
        const latencyMs = performance.now() - started;
        // Anything but a classified failure is the gateway's own: a 500 that never counts against the upstream.
        const gerr = err instanceof GatewayError ? err : internalError(undefined, err);
        ctx.attempts.push({ provider: provider.name, model: target.model, keyId: picked.key.id, status: gerr.status, latencyMs, error: gerr.code ?? gerr.type, failure: gerr.failure });
        health.failed(gerr.failure, Date.now(), latencyMs, gerr.retryAfterS);
        span?.failed(gerr);
        if (actionOf(gerr.failure).next === 'stop') throw gerr;
        lastError = gerr;
      }
    }
  }
  throw noUpstream(chain, lastError);
}

/** Streams: the key's latency is time to first part; its verdict comes when the stream ends. */
function trackStream(ctx: RequestContext, reply: StreamReply, health: KeyHealth, ttfb: number, span: AttemptSpan | undefined): ProviderReply {
  let usage: Usage | undefined;
  return observeStream(
    reply,
    (part) => {
      if (part.type === 'usage') usage = part.usage;
      span?.streamPart(part);
    },
    (end) => {
      ctx.usage = usage;
      span?.streamEnded(end);
      if (end.outcome === 'done') health.succeed(Date.now(), ttfb);
      else if (end.outcome === 'error' && !ctx.signal.aborted) health.failed('stream', Date.now(), ttfb);
      else health.abandon(); // the client went away: no verdict on the key
    },
  );
}
