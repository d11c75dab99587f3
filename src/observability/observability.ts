/**
 * One place to build what observability needs from its config section: the metrics registry, the activity feed, the
 * timing stage, the tracing (./tracing.ts, created by the caller because its SDK loads asynchronously), and the `finished`
 * hook that feeds them all from a finished request.
 */
import type { GatewayError } from '../errors.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import type { ProviderHealthView } from '../providers/health-registry.js';
import { Counter } from 'prom-client';
import { ActivityFeed } from './activity.js';
import { observabilityConfigSchema, type ObservabilityConfig } from './config.js';
import { traceOf } from './explain.js';
import { createMetrics, type Metrics } from './metrics.js';
import { outcomeOf } from './outcome.js';
import { createTimingStage } from './timing-stage.js';
import { TRACING_OFF, type Tracing } from './tracing.js';

export interface Observability {
  readonly config: ObservabilityConfig;
  readonly metrics: Metrics;
  readonly activity: ActivityFeed;
  /** Declare first among the pipeline stages (it measures streams' time to first byte). */
  readonly timingStage: Stage;
  readonly tracing: Tracing;
  /**
   * Call once per finished request (GatewayHandle.finished): records metrics and the activity entry, and ends the request's
   * trace (a request refused before the pipeline ran gets a root span of its own).
   */
  finished(o: { ctx: RequestContext; status: number; durationMs: number; error?: GatewayError }): void;
}

export function createObservability(
  config: ObservabilityConfig = observabilityConfigSchema.parse({}),
  health?: () => Record<string, ProviderHealthView>,
  tracing: Tracing = TRACING_OFF,
): Observability {
  const metrics = createMetrics({ labelCap: config.metrics.label_cap, defaultMetrics: config.metrics.process_metrics, health });
  const activity = new ActivityFeed({ capacity: config.activity.recent, bucketMs: config.activity.bucket_s * 1000, windowMs: config.activity.window_s * 1000 });
  metrics.setDegradedShareSource(() => activity.degradedShare());
  if (tracing.enabled) {
    new Counter({
      name: 'switchyard_trace_spans_total',
      help: 'OpenTelemetry spans by outcome: exported, or dropped (export queue full, export failed or timed out).',
      labelNames: ['outcome'],
      registers: [metrics.registry],
      collect() {
        const s = tracing.stats();
        this.reset();
        this.inc({ outcome: 'exported' }, s.exported);
        this.inc({ outcome: 'dropped' }, s.dropped);
      },
    });
  }
  return {
    config,
    metrics,
    activity,
    timingStage: createTimingStage(),
    tracing,
    finished(o) {
      const outcome = outcomeOf(o.ctx, o.status, o.durationMs, o.error);
      metrics.recordRequest(outcome);
      activity.record(outcome, traceOf(o.ctx));
      if (tracing.enabled) (o.ctx.trace ?? tracing.begin(o.ctx))?.finish(outcome, o.error);
    },
  };
}
