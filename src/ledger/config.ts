/** The `governance.ledger` config section: the spend ledger's retention, its Redis buckets and the savings baseline. */
import { z } from 'zod';

export const ledgerConfigSchema = z.strictObject({
  /** Record every request's spend and savings (the ledger behind /admin/usage, the cost metrics and the dashboard's spend panel). */
  enabled: z.boolean().default(true),
  /** Hours of hourly buckets this process keeps in memory (its own requests). */
  retention_hours: z.number().int().positive().max(24 * 366).default(168),
  /** Lifetime of an hourly bucket in Redis (shared by every instance), in hours. */
  redis_ttl_hours: z.number().int().positive().max(24 * 366 * 5).default(24 * 31),
  /**
   * Distinct dimension rows per hour (key × team × customer × provider × model × rule × intent × cache); more fold their
   * model into "other" (as many again), then into one all-"other" row.
   */
  max_rows_per_hour: z.number().int().positive().max(1_000_000).default(5000),
  /** How often this process adds its pending rows to Redis (one pipelined batch), in ms. */
  flush_interval_ms: z.number().int().positive().max(3_600_000).default(1000),
  /**
   * The counterfactual model for requests that asked for an alias (`auto`, ...): `provider/model` or a model name. Unset: the
   * alias's first target (what it resolves to when no rule moves the request).
   */
  baseline_model: z.string().min(1).optional(),
  /** Per alias, overriding baseline_model. */
  baseline_models: z.record(z.string(), z.string().min(1)).default({}),
});
export type LedgerConfig = z.infer<typeof ledgerConfigSchema>;
