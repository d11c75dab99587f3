/**
 * The `governance` config section and the entity shapes shared by the config file and the admin API. Every field has a
 * default, so the whole section may be omitted.
 */
import { z } from 'zod';
import { ledgerConfigSchema } from '../ledger/config.js';

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'ids are 1-128 characters: letters, digits, _ . : -');

export const budgetSchema = z.strictObject({
  /** USD per period. */
  limit_usd: z.number().nonnegative(),
  period: z.enum(['daily', 'weekly', 'monthly', 'total']).default('monthly'),
});
export type Budget = z.infer<typeof budgetSchema>;

export const rateLimitsSchema = z.strictObject({
  requests_per_minute: z.number().int().positive().optional(),
  requests_per_hour: z.number().int().positive().optional(),
  /** Prompt + completion tokens. */
  tokens_per_minute: z.number().int().positive().optional(),
  tokens_per_hour: z.number().int().positive().optional(),
  /** Requests in flight at once (from authentication to the reply's last byte), counted by each gateway instance. */
  max_parallel_requests: z.number().int().positive().optional(),
});
export type RateLimits = z.infer<typeof rateLimitsSchema>;

/** What every level (customer, team, key, anonymous) may set. */
export const limitsShape = {
  /** Model patterns: `provider/model` globs (`openai/*`, `*\/gpt-4o-mini`) or an alias/model name the caller sends. */
  allowed_models: z.array(z.string().min(1)).optional(),
  budget: budgetSchema.optional(),
  rate_limits: rateLimitsSchema.optional(),
  metadata: z.record(z.string(), z.string()).optional(),
};

export const customerSchema = z.strictObject({
  id,
  name: z.string().min(1).max(200),
  ...limitsShape,
});
export type Customer = z.infer<typeof customerSchema>;

export const teamSchema = z.strictObject({
  id,
  name: z.string().min(1).max(200),
  customer_id: id.optional(),
  ...limitsShape,
});
export type Team = z.infer<typeof teamSchema>;

const keyHash = z
  .string()
  .transform((s) => s.replace(/^sha256:/, '').toLowerCase())
  .pipe(z.string().regex(/^[0-9a-f]{64}$/, 'key_hash is a sha256 hex digest (64 hex characters, optional "sha256:" prefix)'));

/** A virtual key as stored: only the hash of the secret. */
export const keySchema = z.strictObject({
  id,
  name: z.string().min(1).max(200),
  key_hash: keyHash,
  /** First characters of the secret, for display. */
  key_prefix: z.string().max(32).optional(),
  team_id: id.optional(),
  customer_id: id.optional(),
  revoked: z.boolean().default(false),
  /** ISO-8601; the key stops working at that instant. */
  expires_at: z.iso.datetime({ offset: true }).optional(),
  created_at: z.iso.datetime({ offset: true }).optional(),
  ...limitsShape,
});
export type VirtualKey = z.infer<typeof keySchema>;

/** A virtual key as declared in the config file: `key` (plaintext, usually `${ENV}`) or `key_hash`. */
export const configKeySchema = keySchema
  .omit({ key_hash: true })
  .extend({ key: z.string().min(16, 'a key must be at least 16 characters').optional(), key_hash: keyHash.optional() })
  .refine((k) => (k.key === undefined) !== (k.key_hash === undefined), { message: 'give exactly one of key or key_hash' });
export type ConfigKey = z.infer<typeof configKeySchema>;

export const priceSchema = z.strictObject({
  /** USD per million prompt tokens. */
  input: z.number().nonnegative(),
  /** USD per million completion tokens. */
  output: z.number().nonnegative(),
  /** USD per million prompt tokens read from the provider's prompt cache (default: input). */
  cached_input: z.number().nonnegative().optional(),
  /** USD per million reasoning tokens (default: output). */
  reasoning: z.number().nonnegative().optional(),
});
export type Price = z.infer<typeof priceSchema>;

export const governanceConfigSchema = z
  .strictObject({
    /** Requests without a virtual key are served as the anonymous caller. Off by default: every request needs a key. */
    allow_anonymous: z.boolean().default(false),
    /** Limits applied to anonymous callers (all of them share one set of counters). */
    anonymous: z.strictObject(limitsShape).default({}),
    /** `auto`: Redis when the app has a Redis client, memory otherwise. */
    store: z.enum(['auto', 'memory', 'redis']).default('auto'),
    /** While Redis is unreachable: serve with in-process counters (`fail_open`) or refuse with 503 (`fail_closed`). */
    on_store_error: z.enum(['fail_open', 'fail_closed']).default('fail_open'),
    /** HTTP status for an exhausted budget. */
    budget_exceeded_status: z.union([z.literal(402), z.literal(429)]).default(402),
    /** Completion tokens reserved when a request sets neither max_tokens nor max_completion_tokens. */
    default_max_tokens: z.number().int().nonnegative().default(1024),
    /** Per-model prices, keyed `provider/model` or `model`; they override the built-in table. */
    pricing: z.record(z.string(), priceSchema).default({}),
    /** Price for models found in neither table. Zero means such requests are not charged against budgets. */
    unknown_model_price: priceSchema.default({ input: 0, output: 0 }),
    /** The spend ledger (every request's cost and savings): retention, Redis buckets, the savings baseline. */
    ledger: ledgerConfigSchema.prefault({}),
    /** How long capacity() results are reused per caller. */
    capacity_cache_ms: z.number().int().nonnegative().default(100),
    /** Reload entities from the store this often even without a change notification. */
    refresh_interval_s: z.number().positive().default(30),
    customers: z.array(customerSchema).default([]),
    teams: z.array(teamSchema).default([]),
    keys: z.array(configKeySchema).default([]),
  })
  .superRefine((cfg, ctx) => {
    const seen = (list: { id: string }[], kind: string): Set<string> => {
      const ids = new Set<string>();
      list.forEach((e, i) => {
        if (ids.has(e.id)) ctx.addIssue({ code: 'custom', path: [kind, i, 'id'], message: `duplicate ${kind} id '${e.id}'` });
        ids.add(e.id);
      });
      return ids;
    };
    const customers = seen(cfg.customers, 'customers');
    const teams = seen(cfg.teams, 'teams');
    seen(cfg.keys, 'keys');
    cfg.teams.forEach((t, i) => {
      if (t.customer_id !== undefined && !customers.has(t.customer_id)) {
        ctx.addIssue({ code: 'custom', path: ['teams', i, 'customer_id'], message: `unknown customer '${t.customer_id}'` });
      }
    });
    cfg.keys.forEach((k, i) => {
      if (k.team_id !== undefined && !teams.has(k.team_id)) {
        ctx.addIssue({ code: 'custom', path: ['keys', i, 'team_id'], message: `unknown team '${k.team_id}'` });
      }
      if (k.customer_id !== undefined && !customers.has(k.customer_id)) {
        ctx.addIssue({ code: 'custom', path: ['keys', i, 'customer_id'], message: `unknown customer '${k.customer_id}'` });
      }
      if (k.team_id !== undefined && k.customer_id !== undefined) {
        const team = cfg.teams.find((t) => t.id === k.team_id);
        if (team !== undefined && team.customer_id !== k.customer_id) {
          ctx.addIssue({ code: 'custom', path: ['keys', i, 'customer_id'], message: `team '${k.team_id}' does not belong to customer '${k.customer_id}'` });
        }
      }
    });
  });

export type GovernanceConfig = z.infer<typeof governanceConfigSchema>;
