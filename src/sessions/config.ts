/**
 * Config of the `sessions` section: sticky conversations. A session is named by a header the app sets, or derived from the
 * conversation's first turns; its state (routed target, highest complexity band, turn count) lives for an idle TTL.
 */
import { z } from 'zod';

export const sessionsConfigSchema = z.strictObject({
  /** Off by default: no session is looked up or recorded. */
  enabled: z.boolean().default(false),
  /** Request header carrying the app's session id (lower case). */
  header: z.string().regex(/^[a-z0-9-]+$/, 'a lower-case header name').default('x-switchyard-session'),
  /** Without the header: derive the session from the system prompt and the first user message (chat requests only). */
  derive: z.boolean().default(true),
  /** A session not seen for this long is forgotten. */
  idle_ttl_s: z.number().int().positive().max(7 * 24 * 3600).default(1800),
  /**
   * Most sessions the in-memory store keeps (expired ones first, then the least recently recorded of the virtual key holding
   * the most); Redis holds them when redis.url is set.
   */
  max_entries: z.number().int().positive().max(10_000_000).default(100_000),
});

export type SessionsConfig = z.output<typeof sessionsConfigSchema>;
