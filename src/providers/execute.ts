/**
 * The provider chain executor: for each target in the route's chain, pick a key (adaptive balancer over the keys' lanes for
 * the target's model: circuit state, rest, headroom), call the adapter, and when the attempt fails do what its failure class
 * says (src/llm/failure.ts) to the lane: stop, or try another key of the same provider (bounded), then the next target —
 * within a global attempt cap and a total deadline. A stream that has no first part by the provider's first-byte deadline
 * is abandoned and counted against the lane; a JSON attempt is bounded by
 * timeout_ms alone (see `attempt`). Streams are handed on once their first part arrived; a break after that is an error
 * part, never a fallback. Runs once per request; each attempt is recorded on
 * the context and, with tracing on, gets a span whose W3C trace context the upstream call carries.
 */
import { GatewayError, internalError, invalidRequest } from '../errors.js';
import { actionOf } from '../llm/failure.js';
import type { StreamFailure } from '../llm/parts.js';
import type { NativeRequest } from '../llm/protocol.js';
import type { AttemptSpan } from '../observability/tracing.js';
import { clientAbortOf, type RequestContext, type Target } from '../pipeline/context.js';
import { ClientAbort, type AbortSource } from '../pipeline/client-abort.js';
import { observeStream } from '../pipeline/stage.js';
import { estimatePromptTokens } from '../governance/tokens.js';
import { requestOverStatedLimit } from './failure.js';
import type { HealthRegistry } from './health-registry.js';
import type { LaneHealth } from './lane-health.js';
import { selectKey, type PoolKey } from './key-selector.js';
import type { Operation, ProviderAdapter, ProviderReply, RateLimitInfo, StreamReply, UpstreamRequest, Usage } from './types.js';

export interface ProviderRuntime {
  name: string;
  adapter: ProviderAdapter;
  keys: PoolKey[];
  timeoutMs: number;
  /** Deadline for a stream's first part (≤ timeoutMs); a JSON attempt is bounded by timeoutMs alone. */
  firstByteTimeoutMs: number;
  /** Caller headers sent on to this provider (`providers.<name>.forward_headers`). */
  forwardHeaders: readonly string[];
}

export interface ExecuteSettings {
  maxAttempts: number;
  maxKeysPerTarget: number;
  deadlineMs: number;
  floorShare: number;
}

/**
 * The headers an attempt sends on: the client headers this provider forwards (everything else — auth, cookies, hop-by-hop
 * — stays at the gateway), and with tracing on the attempt's W3C trace context.
 */
function forwardHeaders(ctx: RequestContext, provider: ProviderRuntime, span: AttemptSpan | undefined): Record<string, string> {
  const out: Record<string, string> = { 'x-request-id': ctx.id };
  for (const h of provider.forwardHeaders) if (ctx.headers[h]) out[h] = ctx.headers[h];
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

/**
 * The caller's own request, when this provider is sent it: its adapter speaks the caller's protocol and nothing rewrote the
 * request (redaction, a cascade tier's body).
 */
function nativeFor(ctx: RequestContext, provider: ProviderRuntime): NativeRequest | undefined {
  const native = ctx.native;
  return native !== undefined && ctx.upstreamBody === undefined && provider.adapter.speaks === native.protocol ? native : undefined;
}

/** A target that would receive the translated request when the caller's request cannot be translated: the caller's 400. */
function untranslatable(ctx: RequestContext, provider: ProviderRuntime): GatewayError | undefined {
  const u = ctx.native?.untranslatable;
  if (u === undefined || nativeFor(ctx, provider) !== undefined) return undefined;
  return invalidRequest(u.message, u.param, u.code);
}

const firstByteMissed = (provider: string, ms: number): GatewayError => new GatewayError({
  status: 504, message: `Upstream ${provider} sent no first byte within ${Math.round(ms)} ms`, type: 'timeout_error',
  code: 'upstream_first_byte_timeout', failure: 'timeout',
});

/** An abort of its own, aborted when `parent` is (or at once if it already was); its AbortSignal only if asked for. */
function linkedAbort(parent: AbortSource): ClientAbort {
  const a = new ClientAbort();
  if (parent.aborted) a.abort();
  else parent.addEventListener('abort', { handleEvent: () => a.abort() }, { once: true });
  return a;
}

/**
 * One attempt's request to its adapter. The upstream call listens to its abort (`abort`: the client's, or a stream
 * attempt's own, linked to it) without an AbortSignal being made for it (src/pipeline/client-abort.ts).
 */
class AttemptRequest implements UpstreamRequest {
  readonly op: Operation;
  readonly stream: boolean;
  readonly abort: AbortSource;
  readonly bodyText: string | undefined;

  constructor(
    ctx: RequestContext,
    readonly model: string,
    readonly body: Record<string, unknown>,
    readonly native: NativeRequest | undefined,
    readonly apiKey: string,
    readonly headers: Record<string, string>,
    deadline: ClientAbort | undefined,
    readonly timeoutMs: number,
    readonly onHeaders: (info: RateLimitInfo) => void,
  ) {
    this.op = ctx.op;
    this.stream = ctx.stream;
    // The caller's own text, when this attempt sends the caller's body unchanged (checked by identity).
    this.bodyText = ctx.bodyText !== undefined && ctx.bodyText.of === body ? ctx.bodyText.text : undefined;
    this.abort = deadline ?? clientAbortOf(ctx);
  }
}

/**
 * One adapter call. A streamed call must send its first part within the provider's first-byte deadline, or the attempt is
 * aborted and fails as an upstream timeout (the client's own abort still reads as the client's): a stream's first event
 * does not wait for the rest of the answer (a reasoning model's silent thinking aside: docs/operations.md). A JSON call
 * has no first-byte deadline, only timeout_ms (the adapter's wait for headers; past it, an upstream timeout like any
 * other): OpenAI-style upstreams send a JSON reply's headers only with the whole answer, so until then how long they take
 * is how long an answer the caller asked for, and counting that against the key would let one tenant's long generations
 * open a provider's circuit for everyone. The first byte's time (headers for JSON, first part for streams) is recorded as
 * the key's time to first byte.
 */
async function attempt(ctx: RequestContext, provider: ProviderRuntime, target: Target, key: PoolKey, health: LaneHealth, remaining: number, span: AttemptSpan | undefined): Promise<ProviderReply> {
  const source = ctx.upstreamBody ?? ctx.body;
  const body = source.model === target.model ? source : { ...source, model: target.model };
  const timeoutMs = Math.min(provider.timeoutMs, remaining);
  const deadlineMs = Math.min(provider.firstByteTimeoutMs, timeoutMs);
  const started = performance.now();
  // JSON: the response headers are the first byte; a stream's first part is what the adapter resolves with.
  const json = !ctx.stream || ctx.op === 'embedding';
  // Only a stream has a first-byte deadline and an abort of its own. The client's abort reaches it through one listener
  // on the request's (which lives no longer than the request), and no AbortSignal is made unless an adapter asks for one:
  // the upstream call only listens.
  const client = clientAbortOf(ctx);
  const deadline = json ? undefined : linkedAbort(client);
  let headers = false;
  const timer = deadline === undefined ? undefined : setTimeout(() => deadline.abort(), deadlineMs);
  try {
    const reply = await provider.adapter.call(new AttemptRequest(
      ctx, target.model, body as Record<string, unknown>, nativeFor(ctx, provider) !== undefined ? ctx.native : undefined, key.value,
      forwardHeaders(ctx, provider, span), deadline, timeoutMs,
      (info) => {
        health.noteRateLimit(info, Date.now());
        if (json && !headers) {
          headers = true;
          health.firstByte(performance.now() - started);
        }
      },
    ));
    // A stream's first part: the key answered for the model (a half-open circuit closes now, not when this stream ends).
    if (!json) health.streamed(performance.now() - started);
    return reply;
  } catch (err) {
    if (deadline?.aborted === true && !client.aborted) throw firstByteMissed(provider.name, deadlineMs);
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
    // Not an attempt: the target is skipped (a later one may speak the caller's protocol), and the 400 is the answer if none does.
    const refused = untranslatable(ctx, provider);
    if (refused !== undefined) {
      lastError = refused;
      continue;
    }
    const tried = new Set<string>();
    for (let k = 0; k < settings.maxKeysPerTarget; k++) {
      if (attempts >= settings.maxAttempts || clientAbortOf(ctx).aborted) throw noUpstream(chain, lastError);
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        throw new GatewayError({ status: 504, message: 'The request deadline passed before any upstream answered.', type: 'timeout_error', code: 'deadline_exceeded', failure: 'upstream' });
      }
      // The unit of health is the key's lane for this model (src/providers/key-health.ts): a Map get per key.
      const picked = selectKey(provider.keys, (id) => registry.key(provider.name, id).lane(target.model), target.model, tried, Date.now(), settings.floorShare);
      if (!picked) break;
      tried.add(picked.key.id);
      attempts++;
      const { health } = picked;
      const started = performance.now();
      const span = ctx.trace?.attempt({ provider: provider.name, kind: provider.adapter.kind, model: target.model, keyId: picked.key.id });
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
        return trackStream(ctx, reply, health, latencyMs, span);
      } catch (err) {
        const latencyMs = performance.now() - started;
        // Anything but a classified failure is the gateway's own: a 500 that never counts against the upstream. A rate limit
        // the request alone is over (by the limit the upstream stated and the request's size) is too_large: no key rests.
        const classified = err instanceof GatewayError ? err : internalError(undefined, err);
        const gerr = requestOverStatedLimit(provider.name, classified, () => estimatePromptTokens(ctx.body)) ?? classified;
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

/**
 * Streams: the lane's latency is time to first part; its verdict comes when the stream ends. A stream that ends in an error
 * the upstream stated as a refusal of the request (its class, read by the adapter: invalid, too large, a rate limit of the
 * account the caller's header chose) is no verdict on the lane; one it stated as a rate limit rests the lane; any other
 * break counts against it.
 */
function trackStream(ctx: RequestContext, reply: StreamReply, health: LaneHealth, ttfb: number, span: AttemptSpan | undefined): ProviderReply {
  let usage: Usage | undefined;
  let failure: StreamFailure | undefined;
  return observeStream(
    reply,
    (part) => {
      if (part.type === 'usage') usage = part.usage;
      else if (part.type === 'error') failure = part.failure;
      span?.streamPart(part);
    },
    (end) => {
      ctx.usage = usage;
      span?.streamEnded(end);
      if (end.outcome === 'done') health.succeed(Date.now(), ttfb);
      else if (end.outcome === 'error' && !clientAbortOf(ctx).aborted) {
        // Classified once by the adapter that started the stream (StreamFailure.class).
        const stated = failure?.class ?? 'upstream';
        health.failed(actionOf(stated).health === 'failure' ? 'stream' : stated, Date.now(), ttfb);
      } else health.abandon(); // the client went away: no verdict on the key
    },
  );
}
