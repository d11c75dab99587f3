/**
 * The `observability` section of the config file. Every key has a default, so the whole section may be omitted.
 */
import { z } from 'zod';

export const observabilityConfigSchema = z.strictObject({
  metrics: z.strictObject({
    /** Serve GET /metrics (behind the admin key). */
    enabled: z.boolean().default(true),
    /** Node.js process metrics (CPU, memory, event loop lag, GC) on the same registry. */
    process_metrics: z.boolean().default(true),
    /** Distinct values kept per label (provider, model, rule, intent, ...); later ones are counted as "other". */
    label_cap: z.number().int().min(1).max(10_000).default(200),
  }).prefault({}),
  activity: z.strictObject({
    /** Recent routing decisions kept for the dashboard. */
    recent: z.number().int().min(1).max(10_000).default(200),
    /** Width of one time bucket and the span kept (seconds). */
    bucket_s: z.number().int().min(1).max(3600).default(10),
    window_s: z.number().int().min(60).max(86_400).default(3600),
  }).prefault({}),
  /**
   * OpenTelemetry traces (docs/observability.md). Off by default; when off the SDK is never loaded and requests carry no
   * trace. Read at start-up only (a reload that changes it is logged as needing a restart).
   */
  otel: z.strictObject({
    enabled: z.boolean().default(false),
    /** The OTLP/HTTP traces URL, path included (spans are sent as OTLP JSON). */
    endpoint: z.url({ protocol: /^https?$/ }).default('http://localhost:4318/v1/traces'),
    /** Headers sent with every export (e.g. a collector's auth token; use ${ENV} substitution for secrets). */
    headers: z.record(z.string().min(1), z.string()).default({}),
    /** The `service.name` resource attribute. */
    service_name: z.string().min(1).default('switchyard'),
    /** Share of new traces recorded (0..1); a caller's traceparent decides for the traces it continues. */
    sample_ratio: z.number().min(0).max(1).default(1),
    /** Longest one export may take before it is abandoned and its spans counted as dropped. */
    export_timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
    /** Finished spans waiting for export; past it new spans are dropped and counted, never queued without bound. */
    max_queue_size: z.number().int().min(1).max(100_000).default(2048),
  }).prefault({}),
}).refine((c) => c.activity.window_s >= c.activity.bucket_s, { path: ['activity', 'window_s'], message: 'must be at least bucket_s' });

export type ObservabilityConfig = z.output<typeof observabilityConfigSchema>;
