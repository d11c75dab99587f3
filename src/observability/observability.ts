/**
 * One place to build what observability needs from its config section: the metrics registry, the activity feed, the
 * timing stage, and the `finished` hook that feeds both from a finished request.
 */
import type { GatewayError } from '../errors.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import type { ProviderHealthView } from '../providers/health-registry.js';
import { ActivityFeed } from './activity.js';
import { observabilityConfigSchema, type ObservabilityConfig } from './config.js';
import { traceOf } from './explain.js';
import { createMetrics, type Metrics } from './metrics.js';
import { outcomeOf } from './outcome.js';
import { createTimingStage } from './timing-stage.js';

export interface Observability {
  readonly config: ObservabilityConfig;
  readonly metrics: Metrics;
  readonly activity: ActivityFeed;
  /** Declare first among the pipeline stages (it measures streams' time to first byte). */
  readonly timingStage: Stage;
  /** Call once per finished request (GatewayHandle.finished): records metrics and the activity entry. */
  finished(o: { ctx: RequestContext; status: number; durationMs: number; error?: GatewayError }): void;
}

export function createObservability(
  config: ObservabilityConfig = observabilityConfigSchema.parse({}),
  health?: () => Record<string, ProviderHealthView>,
): Observability {
  const metrics = createMetrics({ labelCap: config.metrics.label_cap, defaultMetrics: config.metrics.process_metrics, health });
  const activity = new ActivityFeed({ capacity: config.activity.recent, bucketMs: config.activity.bucket_s * 1000, windowMs: config.activity.window_s * 1000 });
  metrics.setDegradedShareSource(() => activity.degradedShare());
  return {
    config,
    metrics,
    activity,
    timingStage: createTimingStage(),
    finished(o) {
      const outcome = outcomeOf(o.ctx, o.status, o.durationMs, o.error);
      metrics.recordRequest(outcome);
      activity.record(outcome, traceOf(o.ctx));
    },
  };
}
