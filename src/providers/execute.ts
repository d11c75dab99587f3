/**
 * The provider chain executor: for each target in the route's chain, pick a key (adaptive balancer, circuit state), call the
 * adapter, and on a retryable failure try another key of the same provider (bounded), then the next target — within a global
 * attempt cap and a total deadline. Streams are handed on once their first part arrived; a break after that is an error part,
 * never a fallback. Runs once per request; each attempt is recorded on the context.
 */
import { GatewayError } from '../errors.js';
import type { RequestContext, Target } from '../pipeline/context.js';
import { observeStream } from '../pipeline/stage.js';
import type { HealthRegistry } from './health-registry.js';
import { selectKey, type PoolKey } from './key-selector.js';
import type { ProviderAdapter, ProviderReply, Usage } from './types.js';

export interface ProviderRuntime {
  name: string;
  adapter: ProviderAdapter;
  keys: PoolKey[];
  timeoutMs: number;
}

export interface ExecuteSettings {
  maxAttempts: number;
  maxKeysPerTarget: number;
  deadlineMs: number;
  floorShare: number;
}

/** Request headers forwarded upstream (everything else — auth, cookies, hop-by-hop — stays at the gateway). */
const FORWARDED = ['openai-organization', 'openai-project', 'x-stainless-arch'];

function forwardHeaders(ctx: RequestContext): Record<string, string> {
  const out: Record<string, string> = { 'x-request-id': ctx.id };
  for (const h of FORWARDED) if (ctx.headers[h]) out[h] = ctx.headers[h];
  return out;
}

function noUpstream(chain: readonly Target[], last: GatewayError | undefined): GatewayError {
  if (last) return last;
  return new GatewayError({
    status: 503,
    message: `No healthy upstream for ${chain.map((t) => `${t.provider}/${t.model}`).join(', ')}: every key is open or cooling down.`,
    type: 'service_unavailable',
    code: 'no_healthy_upstream',
    fault: 'provider',
  });
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
        throw new GatewayError({ status: 504, message: 'The request deadline passed before any upstream answered.', type: 'timeout_error', code: 'deadline_exceeded', fault: 'provider' });
      }
      const now = Date.now();
      const picked = selectKey(provider.keys, (id) => registry.key(provider.name, id), target.model, tried, now, settings.floorShare);
      if (!picked) break;
      tried.add(picked.key.id);
      attempts++;
      const health = picked.health;
      const started = performance.now();
      health.start();
      try {
        const source = ctx.upstreamBody ?? ctx.body;
        const body = source.model === target.model ? source : { ...source, model: target.model };
        const reply = await provider.adapter.call({
          op: ctx.op,
          model: target.model,
          body: body as Record<string, unknown>,
          stream: ctx.stream,
          apiKey: picked.key.value,
          headers: forwardHeaders(ctx),
          signal: ctx.signal,
          timeoutMs: Math.min(provider.timeoutMs, remaining),
          onHeaders: (info) => health.noteRateLimit(info, Date.now()),
        });
        const latencyMs = performance.now() - started;
        ctx.attempts.push({ provider: provider.name, model: target.model, keyId: picked.key.id, status: reply.status, latencyMs });
        ctx.replyHeaders['x-switchyard-provider'] = provider.name;
        ctx.replyHeaders['x-switchyard-model'] = target.model;
        ctx.replyHeaders['x-switchyard-attempts'] = String(attempts);
        if (reply.warnings?.length) {
          ctx.warnings.push(...reply.warnings);
          ctx.replyHeaders['x-switchyard-warnings'] = reply.warnings.join('; ').replace(/[^\x20-\x7e]/g, '?').slice(0, 512);
        }
        if (reply.kind === 'json') {
          health.succeed(Date.now(), latencyMs);
          ctx.usage = reply.usage;
          return reply;
        }
        return trackStream(ctx, reply, health, started);
      } catch (err) {
        const latencyMs = performance.now() - started;
        const gerr = err instanceof GatewayError ? err : new GatewayError({ status: 502, message: `Upstream ${provider.name} failed`, type: 'upstream_error', code: 'upstream_error', fault: 'provider', retryable: true, cause: err });
        ctx.attempts.push({ provider: provider.name, model: target.model, keyId: picked.key.id, status: gerr.status, latencyMs, error: gerr.code ?? gerr.type });
        if (gerr.fault === 'caller') {
          health.abandon();
          throw gerr;
        }
        if (gerr.fault === 'provider' && (gerr.retryable || gerr.status >= 500 || gerr.status === 429)) health.fail(Date.now(), latencyMs, gerr.retryAfterS);
        else health.succeed(Date.now(), latencyMs); // the upstream worked; it refused this request
        lastError = gerr;
        if (!gerr.retryable) throw gerr;
      }
    }
  }
  throw noUpstream(chain, lastError);
}

/** Streams: the key's latency is time to first part; its verdict comes when the stream ends. */
function trackStream(ctx: RequestContext, reply: ProviderReply & { kind: 'stream' }, health: ReturnType<HealthRegistry['key']>, started: number): ProviderReply {
  const ttfb = performance.now() - started;
  let usage: Usage | undefined;
  return observeStream(
    reply,
    (part) => {
      if (part.type === 'chunk' && part.chunk.usage) usage = part.chunk.usage;
    },
    (end) => {
      ctx.usage = usage;
      if (end.outcome === 'done') health.succeed(Date.now(), ttfb);
      else if (end.outcome === 'error' && !ctx.signal.aborted) health.fail(Date.now(), ttfb);
      else health.abandon(); // the client went away: no verdict on the key
    },
  );
}
