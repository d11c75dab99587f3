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
}).refine((c) => c.activity.window_s >= c.activity.bucket_s, { path: ['activity', 'window_s'], message: 'must be at least bucket_s' });

export type ObservabilityConfig = z.output<typeof observabilityConfigSchema>;
