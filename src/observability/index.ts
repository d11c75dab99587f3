/** Observability: Prometheus metrics, the request activity feed, explain traces, the timing stage and OpenTelemetry tracing. */
export { createMetrics, metricsRouter, type Metrics, type MetricsOptions, type CacheEventLike } from './metrics.js';
export { ActivityFeed, type ActivityOptions, type ActivityOverview, type ActivityEntry, type ActivityPoint } from './activity.js';
export { outcomeOf, overheadMs, upstreamMs, fallbackCount, TTFB_FACT, type RequestOutcome, type AttemptOutcome, type CacheResult } from './outcome.js';
export { explainOf, traceOf, sanitize } from './explain.js';
export { createTimingStage } from './timing-stage.js';
export { observabilityConfigSchema, type ObservabilityConfig } from './config.js';
export { createObservability, type Observability } from './observability.js';
export { createTracing, TRACING_OFF, type Tracing, type RequestTrace, type StepSpan, type AttemptSpan, type AttemptTarget, type TraceExportStats } from './tracing.js';
