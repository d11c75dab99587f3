/**
 * The OpenTelemetry implementation of ./tracing.ts, imported only when `observability.otel.enabled` is on. A tracer provider
 * of its own (never registered globally, no context manager: parents are passed explicitly), a parent-based ratio sampler,
 * the W3C trace-context propagator, and OTLP/HTTP (JSON) export through a batch span processor.
 *
 * Export never blocks or breaks a request: a span joins a bounded queue when it ends and is exported in the background,
 * each export bounded by `export_timeout_ms`. Spans that find the queue full, or whose export fails, times out or meets a
 * shut-down exporter, are dropped and counted (TraceExportStats; `switchyard_trace_spans_total{outcome="dropped"}`).
 */
import {
  defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Context,
  type Span, type Tracer,
} from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type ReadableSpan, type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { GatewayError } from '../errors.js';
import type { RequestContext } from '../pipeline/context.js';
import type { StreamEnd } from '../pipeline/stage.js';
import type { Operation, ProviderReply, StreamPart } from '../providers/types.js';
import type { ObservabilityConfig } from './config.js';
import type { Logger } from './logger.js';
import type { RequestOutcome } from './outcome.js';
import {
  attemptEnd, attemptFailed, attemptStart, foldPart, foldReply, newReplyFacts, rootEnd, rootStart, stepAttributes, type ReplyFacts,
} from './span-attributes.js';
import type { AttemptSpan, AttemptTarget, RequestTrace, StepSpan, TraceExportStats, Tracing } from './tracing.js';

type OtelConfig = ObservabilityConfig['otel'];

/** At most one export-failure log line per this many milliseconds (the count of spans dropped meanwhile goes with it). */
const FAILURE_LOG_INTERVAL_MS = 10_000;

interface Counts extends TraceExportStats {
  /** Spans handed to the batch processor whose export has not settled yet. */
  pending: number;
}

/** Reports every settled export (its span count and whether it succeeded) before passing the result on. */
class SettlingExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter, private readonly settled: (n: number, result: ExportResult) => void) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    let once = false;
    const finish = (result: ExportResult): void => {
      if (once) return;
      once = true;
      this.settled(spans.length, result);
      done(result);
    };
    try {
      this.inner.export(spans, finish);
    } catch (err) {
      finish({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * Bounds the spans waiting for export (queued or in an export still running) and counts the ones it turns away. The batch
 * processor behind it has the same bound, so it never drops a span uncounted.
 */
class BoundedProcessor implements SpanProcessor {
  private closed = false;
  constructor(private readonly inner: SpanProcessor, private readonly max: number, private readonly counts: Counts) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.closed || this.counts.pending >= this.max) {
      this.counts.dropped++;
      return;
    }
    this.counts.pending++;
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    this.closed = true;
    return this.inner.shutdown();
  }
}

const propagator = new W3CTraceContextPropagator();

function endWithError(span: Span, err: GatewayError): void {
  span.setAttributes(attemptFailed(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  span.end();
}

class OtelAttempt implements AttemptSpan {
  readonly headers: Record<string, string> = {};
  private readonly facts: ReplyFacts = newReplyFacts();
  private status = 0;
  private ended = false;

  constructor(private readonly span: Span) {
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), this.headers, defaultTextMapSetter);
  }

  replied(reply: ProviderReply): void {
    this.status = reply.status;
    if (reply.kind === 'stream') return;
    foldReply(this.facts, reply.body);
    if (reply.usage !== undefined) this.facts.usage = reply.usage;
    this.end();
  }

  streamPart(part: StreamPart): void {
    foldPart(this.facts, part);
  }

  streamEnded(end: StreamEnd): void {
    if (end.outcome === 'error') {
      this.span.setAttribute('error.type', 'stream');
      this.span.setAttribute('switchyard.failure_class', 'stream');
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: end.message });
    } else if (end.outcome === 'aborted') {
      this.span.setAttribute('switchyard.stream.aborted', true);
    }
    this.end();
  }

  failed(err: GatewayError): void {
    if (this.ended) return;
    this.ended = true;
    endWithError(this.span, err);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.setAttributes(attemptEnd(this.status, this.facts));
    this.span.end();
  }
}

class OtelRequestTrace implements RequestTrace {
  /** The context of the step that is running: attempts become its children. */
  private open: Context | undefined;
  private attempts = 0;
  private done = false;

  constructor(private readonly tracer: Tracer, private readonly root: Span, private readonly rootCtx: Context, private readonly op: Operation) {}

  step(name: string): StepSpan {
    const span = this.tracer.startSpan(`switchyard.${name}`, { kind: SpanKind.INTERNAL }, this.rootCtx);
    const ctxOfStep = trace.setSpan(this.rootCtx, span);
    this.open = ctxOfStep;
    return {
      end: (ctx: RequestContext, error?: GatewayError): void => {
        if (this.open === ctxOfStep) this.open = undefined;
        span.setAttributes(stepAttributes(name, ctx, error));
        if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        span.end();
      },
    };
  }

  attempt(target: AttemptTarget): AttemptSpan {
    const { name, attributes } = attemptStart(this.op, target, ++this.attempts);
    return new OtelAttempt(this.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, this.open ?? this.rootCtx));
  }

  finish(outcome: RequestOutcome, error?: GatewayError): void {
    if (this.done) return;
    this.done = true;
    this.root.setAttributes(rootEnd(outcome, error));
    // A server span is in error for the gateway's and the upstreams' failures, not for a caller's (4xx).
    if (outcome.status >= 500) this.root.setStatus({ code: SpanStatusCode.ERROR, message: error?.message });
    this.root.end();
  }
}

export function createOtelTracing(config: OtelConfig, logger: Logger): Tracing {
  const counts: Counts = { exported: 0, dropped: 0, pending: 0 };
  let failedSinceLog = 0;
  let lastFailureLog = 0;
  const settled = (n: number, result: ExportResult): void => {
    counts.pending = Math.max(0, counts.pending - n);
    if (result.code === ExportResultCode.SUCCESS) {
      counts.exported += n;
      return;
    }
    counts.dropped += n;
    failedSinceLog += n;
    const now = Date.now();
    if (now - lastFailureLog >= FAILURE_LOG_INTERVAL_MS) {
      lastFailureLog = now;
      logger.warn({ endpoint: config.endpoint, dropped: failedSinceLog, err: result.error?.message }, 'otel: span export failed; spans dropped');
      failedSinceLog = 0;
    }
  };
  const exporter = new SettlingExporter(
    new OTLPTraceExporter({ url: config.endpoint, headers: config.headers, timeoutMillis: config.export_timeout_ms }),
    settled,
  );
  const batch = new BatchSpanProcessor(exporter, {
    maxQueueSize: config.max_queue_size,
    maxExportBatchSize: Math.min(512, config.max_queue_size),
    scheduledDelayMillis: 1000,
    exportTimeoutMillis: config.export_timeout_ms,
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.service_name }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sample_ratio) }),
    spanProcessors: [new BoundedProcessor(batch, config.max_queue_size, counts)],
  });
  const tracer = provider.getTracer('switchyard');
  let shutdown: Promise<void> | undefined;

  return {
    enabled: true,
    begin(ctx: RequestContext): RequestTrace {
      const parent = propagator.extract(ROOT_CONTEXT, ctx.headers, defaultTextMapGetter);
      const { name, attributes } = rootStart(ctx);
      const root = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes, startTime: performance.timeOrigin + ctx.startedAt }, parent);
      return new OtelRequestTrace(tracer, root, trace.setSpan(parent, root), ctx.op);
    },
    stats: () => ({ exported: counts.exported, dropped: counts.dropped }),
    shutdown() {
      // The processor flushes what is queued, each export bounded by export_timeout_ms; a failure is already counted.
      shutdown ??= provider.shutdown().catch(() => undefined);
      return shutdown;
    },
  };
}
