/**
 * The `responses` config section: where stored responses live (for GET /v1/responses/{id} and previous_response_id), for how
 * long, and how much memory they may take.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();

export const responsesConfigSchema = z.object({
  /** memory: this process only; redis: shared by every instance (needs redis.url). Read at start-up. */
  store: z.enum(['memory', 'redis']).default('memory'),
  /** How long a stored response can be read or continued, in seconds. */
  ttl_s: positiveInt.default(86_400),
  /** memory store: most responses kept; expired ones go first, then the least recently used of the key holding the largest share. */
  max_entries: positiveInt.default(10_000),
  /** memory store: most bytes of stored responses kept (serialised JSON); dropped as for max_entries. */
  max_bytes: positiveInt.default(64 * 1024 * 1024),
  /** Largest stored response (its conversation included); a larger one is answered but not stored, with a warning. */
  max_record_bytes: positiveInt.default(1024 * 1024),
}).strict();

export type ResponsesConfig = z.infer<typeof responsesConfigSchema>;
