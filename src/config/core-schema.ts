/**
 * Schema of the gateway's own config sections: server, providers, model aliases, fallbacks, retries, balancing and circuit
 * breaking, logging. Feature areas (semantic, cache, rules, governance) own their sections; ./schema.ts assembles the whole.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const providerModel = z.string().regex(/^[^/\s]+\/\S+$/, 'expected "provider/model"');

export const keySchema = z.object({
  id: z.string().min(1),
  /** Literal value or ${ENV_VAR}; substituted at load. */
  value: z.string().min(1),
  weight: z.number().positive().default(1),
  /** Model patterns this key may serve (`*` = all). */
  models: z.array(z.string().min(1)).default(['*']),
}).strict();

/** The only caller headers the gateway can send on to a provider (auth, cookies and hop-by-hop headers never are). */
export const FORWARDABLE_HEADERS = ['openai-organization', 'openai-project', 'x-stainless-arch', 'anthropic-beta'] as const;

/**
 * Those sent on unless a provider says otherwise: not the two that choose which of the key's accounts is billed. An app
 * whose SDK names its own organization or project then runs through the gateway unchanged, on the operator's account
 * (forwarded, the upstream refuses a key outside that organization), and no tenant picks the account another pays for.
 */
export const DEFAULT_FORWARDED_HEADERS: readonly (typeof FORWARDABLE_HEADERS)[number][] = ['x-stainless-arch', 'anthropic-beta'];

export const providerSchema = z.object({
  kind: z.enum(['openai', 'anthropic', 'azure-openai']),
  base_url: z.url(),
  timeout_ms: positiveInt.default(60_000),
  /**
   * How long a streamed attempt may wait for its first event before it is abandoned (counted against the key and its
   * breaker) and the next key or target is tried. Never more than timeout_ms. A non-streamed (JSON) attempt has no
   * first-byte deadline: its response headers come only with the whole answer, so it is bounded by timeout_ms alone.
   */
  first_byte_timeout_ms: positiveInt.default(15_000),
  keys: z.array(keySchema).min(1),
  /** Models this provider serves; listed by GET /v1/models and used to resolve bare model names. */
  models: z.array(z.string().min(1)).default([]),
  headers: z.record(z.string(), z.string()).optional(),
  /**
   * Caller headers sent on to this provider, from FORWARDABLE_HEADERS (default: DEFAULT_FORWARDED_HEADERS).
   * `OpenAI-Organization` and `OpenAI-Project` choose which of the key's accounts a request is billed to (sent on only
   * when listed here), `anthropic-beta` turns on beta features (some billed apart): `[]` keeps every tenant on the key's
   * own defaults. The provider's own `headers` win over these.
   */
  forward_headers: z.array(z.enum(FORWARDABLE_HEADERS)).default([...DEFAULT_FORWARDED_HEADERS]),
  api_version: z.string().optional(),
  deployments: z.record(z.string(), z.string()).optional(),
  anthropic_version: z.string().optional(),
  default_max_tokens: positiveInt.optional(),
  /** openai / azure-openai: ask for usage on every stream so budgets settle on real token counts (off for servers that reject it). */
  stream_usage: z.boolean().default(true),
  /** openai: the upstream speaks the Responses API; chat requests are sent to {base_url}/responses (chat only). */
  responses: z.boolean().default(false),
}).strict().superRefine((p, ctx) => {
  if (p.responses && p.kind !== 'openai') ctx.addIssue({ code: 'custom', path: ['responses'], message: 'only an openai provider can speak the Responses API' });
  const seen = new Set<string>();
  p.keys.forEach((k, i) => {
    if (seen.has(k.id)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'id'], message: `duplicate key id '${k.id}'` });
    seen.add(k.id);
  });
});

const weightedTarget = z.object({ target: providerModel, weight: z.number().positive().default(1) }).strict();

/** An alias: one name for one or several weighted provider/model targets, with an optional fallback chain. */
export const aliasSchema = z.union([
  providerModel.transform((target) => ({ targets: [{ target, weight: 1 }], fallbacks: [] as string[] })),
  z.object({
    targets: z.array(z.union([providerModel.transform((target) => ({ target, weight: 1 })), weightedTarget])).min(1),
    fallbacks: z.array(providerModel).default([]),
  }).strict(),
]);

export const serverSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Largest accepted request body, e.g. "4mb". */
  body_limit: z.string().regex(/^\d+(b|kb|mb)$/i, 'expected a size such as "4mb"').default('4mb'),
  /** Key for /admin/*, /dashboard, /metrics and stats routes; when absent those routes are disabled. */
  admin_key: z.string().min(16, 'admin_key must be at least 16 characters').optional(),
  /** Seconds to let in-flight requests finish on SIGTERM. */
  shutdown_grace_s: z.number().positive().default(20),
  /**
   * Proxied requests served at once, shared fairly between virtual keys: at the bound, a key holding its share is refused
   * at once (503, Retry-After) while other keys still get in (src/server/in-flight.ts).
   */
  max_in_flight: positiveInt.default(4096),
  /**
   * How long a reply may wait for the client to take its bytes (the connection's send buffer full) before the connection
   * is closed: a client that stops reading gives back its place, its upstream call and the reply's memory.
   */
  write_timeout_ms: positiveInt.default(60_000),
  /** Limits on every proxied request body, refused with a 400 naming the field. */
  limits: z.object({
    /** Deepest nesting of arrays and objects (the body itself is level 1). */
    max_depth: z.number().int().min(4).max(1000).default(64),
    /** Longest string anywhere in the body, in characters. */
    max_string_chars: positiveInt.default(1_048_576),
    /** Most messages in one chat request, and most inputs in an embeddings `input` or completions `prompt` list. */
    max_messages: positiveInt.default(2048),
    /** Most object members (keys) in the whole body, counted before it is parsed. */
    max_members: positiveInt.default(50_000),
    /** Most objects and arrays in the whole body, counted before it is parsed. */
    max_containers: positiveInt.default(50_000),
    /**
     * Most values (array elements and member values) in the whole body, counted as the commas between them before it is
     * parsed. OpenAI takes at most 300,000 tokens in one embeddings request, as token arrays 300,000 numbers.
     */
    max_values: positiveInt.default(500_000),
  }).strict().prefault({}),
}).strict();

export const routingSchema = z.object({
  /** Upstream attempts per request, across keys and fallbacks. */
  max_attempts: positiveInt.default(4),
  /** Keys of one provider tried before moving down the fallback chain. */
  max_keys_per_target: positiveInt.default(2),
  /** Total time budget for one request's attempts (ms). */
  deadline_ms: positiveInt.default(120_000),
  /** Upstream statuses that mean the request itself was refused: the request stops there, as the caller's error (they win over the other classes). */
  non_retryable_statuses: z.array(z.number().int().min(400).max(599)).default([400, 409, 413, 415, 422]),
  /** Default fallback chains: "provider/model" or alias → ["provider/model", ...]. */
  fallbacks: z.record(z.string(), z.array(providerModel)).default({}),
}).strict();

export const balancingSchema = z.object({
  /** Smoothing of the per-key latency average (0..1; higher reacts faster). */
  ewma_alpha: z.number().gt(0).lte(1).default(0.2),
  /** Sliding window for error rates (ms). */
  window_ms: positiveInt.default(30_000),
  /** Share of traffic a degraded key keeps so it can prove recovery. */
  floor_share: z.number().min(0).max(0.5).default(0.05),
  /** Error rate at which a key counts as degraded. */
  degraded_error_rate: z.number().min(0).max(1).default(0.1),
  /** Latency (EWMA) relative to the provider's best key at which a key counts as degraded. */
  degraded_latency_ratio: z.number().min(1).default(2),
}).strict();

export const circuitSchema = z.object({
  /** Consecutive failures that open a key's circuit. */
  consecutive_failures: positiveInt.default(5),
  /** Error rate over the window that opens it, once min_requests were seen. */
  error_rate: z.number().gt(0).lte(1).default(0.5),
  min_requests: positiveInt.default(20),
  /** How long an open circuit waits before letting probes through (ms). */
  cooldown_ms: positiveInt.default(10_000),
  /** Concurrent probes allowed while half-open; successes needed to close. */
  half_open_probes: positiveInt.default(1),
}).strict();

export const loggingSchema = z.object({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Log prompt text (off by default; prompts may hold personal data). */
  log_prompts: z.boolean().default(false),
}).strict();

/** Shared state for several instances: when `url` is set, rules, governance and (with cache.store: redis) the cache use it. */
export const redisSchema = z.object({
  url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL').optional(),
  /** Prefix for every key this deployment writes. */
  key_prefix: z.string().min(1).default('switchyard:'),
  /** Connection attempt timeout (ms). */
  connect_timeout_ms: positiveInt.default(2000),
  /** Longest any Redis command may take before it fails and the feature falls back (ms). */
  command_timeout_ms: positiveInt.default(1000),
  /** Consecutive timeouts or connection errors that open the breaker around Redis (calls then fail at once). */
  breaker_failures: positiveInt.default(3),
  /** How long the breaker stays open before one probe is let through (ms). */
  breaker_cooldown_ms: positiveInt.default(1000),
}).strict();
