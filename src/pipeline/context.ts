/**
 * RequestContext: everything the pipeline knows about one request, created once at the HTTP edge and handed to each stage.
 * Stages add what they own (route decision, cache outcome, attempts); none of them reads the raw HTTP request.
 */
import type { AfterReplyWork } from './after-reply.js';
import type { AbortSource } from './client-abort.js';
import type { CascadeStreaming, CascadeTier } from '../cascade/types.js';
import type { FailureClass } from '../llm/failure.js';
import type { InboundProtocol, NativeRequest } from '../llm/protocol.js';
import type { RequestTrace } from '../observability/tracing.js';
import type { Operation, Usage } from '../providers/types.js';
import type { RequestSlots } from './request-local.js';

export type RequestType = 'chat_completion' | 'chat_completion_stream' | 'text_completion' | 'embedding';

export type { InboundProtocol, NativeRequest } from '../llm/protocol.js';

/** Who is calling, resolved by auth from the virtual key. Empty strings when absent (anonymous use). */
export interface Caller {
  virtualKeyId: string;
  virtualKeyName: string;
  teamId: string;
  teamName: string;
  customerId: string;
  customerName: string;
}

export const ANONYMOUS: Caller = Object.freeze({
  virtualKeyId: '',
  virtualKeyName: '',
  teamId: '',
  teamName: '',
  customerId: '',
  customerName: '',
});

/** A concrete place to send a request. */
export interface Target {
  provider: string;
  model: string;
}

/** Cache policy a rule may set for the requests it matches. */
export interface CachePolicy {
  enabled?: boolean;
  threshold?: number;
  ttl_s?: number;
}

/** The routing stage's output: where to go, in order, and why. */
export interface RouteDecision {
  /** Primary target first, then the fallback chain. */
  chain: Target[];
  /** Name of the rule that decided, or 'default'. */
  rule: string;
  cache?: CachePolicy;
  /** When set, the request runs as a cascade over these tiers (the chain then lists the tiers' targets in order). */
  cascade?: readonly CascadeTier[];
  /** How a streamed request treats the cascade (default: the gateway's cascade.streaming). */
  cascadeStreaming?: CascadeStreaming;
  /** A sticky rule routed the request to the target that last answered its session. */
  sticky?: boolean;
}

/** One upstream attempt, for headers, logs and metrics. */
export interface Attempt {
  provider: string;
  model: string;
  keyId: string;
  status: number | 'error';
  latencyMs: number;
  error?: string;
  /** The failure class of a failed attempt. */
  failure?: FailureClass;
}

export interface RequestContext {
  readonly id: string;
  /** performance.now() at arrival. */
  readonly startedAt: number;
  readonly op: Operation;
  /** The protocol the caller spoke; `body` is always the internal (OpenAI-format) request, whatever it was. */
  readonly protocol: InboundProtocol;
  /** The caller's own request when its protocol is not the internal one (see src/llm/protocol.ts). */
  readonly native?: NativeRequest;
  readonly requestType: RequestType;
  /** The parsed request body; never mutated after the context is built. */
  readonly body: Readonly<Record<string, unknown>>;
  /** When set (e.g. by redaction), the body sent upstream instead of `body`. */
  upstreamBody?: Readonly<Record<string, unknown>>;
  /** The model (or alias) the caller asked for. */
  readonly model: string;
  readonly stream: boolean;
  /** Client request headers, lower-cased keys. */
  readonly headers: Readonly<Record<string, string>>;
  readonly caller: Caller;
  /** Aborted when the client goes away. Made on first use when the context has a `clientAbort` (./client-abort.ts). */
  readonly signal: AbortSignal;
  /**
   * The same abort, to read or listen to without making a signal (absent in contexts built around a given signal; read it
   * through `clientAbortOf`).
   */
  readonly clientAbort?: AbortSource;

  route?: RouteDecision;
  /** Upstream attempts so far. */
  readonly attempts: Attempt[];
  /** Usage of the reply that was delivered, when known. */
  usage?: Usage;
  /** Parameters or behaviours the gateway could not honour exactly (reported, never silently changed). */
  readonly warnings: string[];
  /** Headers to add to the reply (x-switchyard-*). */
  readonly replyHeaders: Record<string, string>;
  /** Per-stage facts for logs and explain (cache result, intent, ...). */
  readonly facts: Record<string, unknown>;
  /** The request's trace while OpenTelemetry tracing is on (set before the pipeline runs); unset when it is off. */
  trace?: RequestTrace;
  /**
   * Work to run once the reply is written (./after-reply.ts): present when the HTTP edge serves the request and drains it;
   * absent elsewhere, and such work then runs at once.
   */
  readonly afterReply?: AfterReplyWork[];
  /**
   * The JSON text `of` was parsed from, as the caller sent it (the OpenAI routes): an upstream call whose body is that very
   * object sends this text instead of serialising it again. Checked by identity, so a copy of the context with another body
   * never sends it.
   */
  readonly bodyText?: { readonly of: object; readonly text: string };
  /** State the stages keep for this request (./request-local.ts); made on first write. */
  slots?: RequestSlots;
}

/** The request's client abort without making an AbortSignal when the context can avoid it. */
export const clientAbortOf = (ctx: RequestContext): AbortSource => ctx.clientAbort ?? ctx.signal;
