/**
 * Tracing, as the pipeline sees it: one trace per request (a root span from arrival to the reply's last byte), a span per
 * pipeline step and per upstream attempt. The orchestrator (src/pipeline/run.ts) opens the step spans and the executor
 * (src/providers/execute.ts) the attempt spans, through `ctx.trace`, so every inbound protocol and every stage is covered
 * without code of its own.
 *
 * Free when off: with `observability.otel.enabled: false` the OpenTelemetry SDK is never imported, `ctx.trace` stays unset and
 * every hook is one `?.` on undefined. When on, ./otel-tracing.ts (loaded on demand) implements these interfaces.
 */
import type { GatewayError } from '../errors.js';
import type { RequestContext } from '../pipeline/context.js';
import type { StreamEnd } from '../pipeline/stage.js';
import type { ProviderReply, StreamPart } from '../providers/types.js';
import type { ObservabilityConfig } from './config.js';
import type { Logger } from './logger.js';
import type { RequestOutcome } from './outcome.js';

/** A pipeline step's span: a stage's `before` hook, or `execute` (the provider chain until the reply starts). */
export interface StepSpan {
  /** Closes the span; its attributes are read from what the step left on the context (route, cache and safety facts). */
  end(ctx: RequestContext, error?: GatewayError): void;
}

/** Who an upstream attempt goes to. Never the key itself: only its configured id. */
export interface AttemptTarget {
  /** The configured provider name. */
  provider: string;
  /** The adapter kind (openai, anthropic, azure-openai, ...). */
  kind: string;
  model: string;
  keyId: string;
}

/** One upstream attempt's span. */
export interface AttemptSpan {
  /** W3C trace-context headers (traceparent, tracestate) that make the upstream's own spans children of this attempt. */
  readonly headers: Readonly<Record<string, string>>;
  /** The reply started: a JSON reply ends the span; a stream keeps it open until `streamEnded`. */
  replied(reply: ProviderReply): void;
  /** One part of the streamed reply, as it passes (finish reasons, usage). */
  streamPart(part: StreamPart): void;
  streamEnded(end: StreamEnd): void;
  /** The attempt failed before its reply started. */
  failed(err: GatewayError): void;
}

/** One request's trace, on `ctx.trace` while tracing is on. */
export interface RequestTrace {
  step(name: string): StepSpan;
  /** An attempt span, child of the open `execute` step (of the root when none is open). */
  attempt(target: AttemptTarget): AttemptSpan;
  /** Closes the root span once the reply is finished (the last byte of a stream) or refused. Idempotent. */
  finish(outcome: RequestOutcome, error?: GatewayError): void;
}

/** Span export so far, for the metrics. */
export interface TraceExportStats {
  exported: number;
  /** Spans dropped: the export queue was full, an export failed or timed out, or the exporter was shut down. */
  dropped: number;
}

export interface Tracing {
  readonly enabled: boolean;
  /** The request's trace, continuing the caller's W3C traceparent when it sent a valid one. Undefined when tracing is off. */
  begin(ctx: RequestContext): RequestTrace | undefined;
  stats(): TraceExportStats;
  /** Exports what is queued (bounded by the export timeout) and stops. */
  shutdown(): Promise<void>;
}

export const TRACING_OFF: Tracing = Object.freeze({
  enabled: false,
  begin: () => undefined,
  stats: () => ({ exported: 0, dropped: 0 }),
  shutdown: () => Promise.resolve(),
});

/** The tracing the config asks for: TRACING_OFF, or the OpenTelemetry SDK loaded now (and only now). */
export async function createTracing(config: ObservabilityConfig['otel'], logger: Logger): Promise<Tracing> {
  if (!config.enabled) return TRACING_OFF;
  const { createOtelTracing } = await import('./otel-tracing.js');
  return createOtelTracing(config, logger);
}
