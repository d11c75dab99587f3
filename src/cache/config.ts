/**
 * The `cache` section of the config file. Every key has a default, so the whole section may be omitted.
 */
import { z } from 'zod';
import { DEFAULT_PAIR_MODEL } from './pair-weights.js';

const unit = z.number().min(0).max(1);

const REMOVED_PROJECTION = 'removed: the cache index now always searches the full vectors (the projected search did not pay; ' +
  'docs/cache.md). Delete this key.';

export const guardConfigSchema = z.object({
  /** Run the false-hit guard on semantic candidates. */
  enabled: z.boolean().default(true),
  /** Reject when quantities, dates or ordinals differ ("3 years" vs "5 years"). */
  numbers: z.boolean().default(true),
  /** Reject when both sides name units or time frames and they differ ("in 3 months" vs "in 3 years", "5 am" vs "5 pm"). */
  units: z.boolean().default(true),
  /** Reject when one side is negated and the other is not. */
  negation: z.boolean().default(true),
  /**
   * Reject when both sides name the same scale at opposite ends ("cheapest" vs "most expensive", "most" vs "least",
   * "increase" vs "decrease") or the same movement reversed ("from Boston to Miami" vs "from Miami to Boston").
   */
  opposites: z.boolean().default(true),
  /** Reject when the question words differ (why vs how, how vs how many). */
  question_word: z.boolean().default(false),
  /**
   * Reject when a named entity appears on one side only, or shared entities appear in a different order. With the scorer on,
   * only an entity swapped for another ("Frost Bank" vs "Commerce Bank") rejects outright; the scorer weighs the rest.
   */
  entities: z.boolean().default(true),
  /** Without the scorer: reject when more than `max_unmatched_content_words` content words appear on one side only. */
  content_words: z.boolean().default(true),
  max_unmatched_content_words: z.number().int().min(0).max(20).default(4),
  /** Each content word found on one side only raises the similarity a candidate needs by this much. */
  unmatched_word_penalty: z.number().min(0).max(1).default(0),
  /**
   * Decide with the learned pair scorer (src/cache/pair-scorer.ts) instead of the content-word rule: the checks above that
   * are on still reject outright, then the candidate is served when the scorer's probability reaches the cutoff.
   */
  scorer: z.boolean().default(true),
  /** A model written by `switchyard cache-eval --fit` to use instead of the shipped one. Read once, at start-up. */
  scorer_file: z.string().min(1).optional(),
  /** Overrides the model's cutoff: a higher value serves fewer, surer hits. */
  min_score: unit.optional(),
}).strict();

export const cacheConfigSchema = z.object({
  /** Off by default: serving stored answers changes what apps see, so an operator opts in. */
  enabled: z.boolean().default(false),
  /** Where entries live: this process only, or Redis shared by every instance. */
  store: z.enum(['memory', 'redis']).default('memory'),
  /** Key prefix in Redis. */
  redis_prefix: z.string().min(1).default('switchyard:cache:'),
  /** Upper bound on any one Redis call made while serving a request; slower calls count as a miss. */
  redis_timeout_ms: z.number().int().min(1).max(10_000).default(100),
  /** Whose entries a request may see: the virtual key (default), its team, its customer, or everyone. */
  partition_by: z.enum(['virtual_key', 'team', 'customer', 'global']).default('virtual_key'),
  /** Serve semantic (similar-question) hits; when false only exact repeats are served. */
  semantic: z.boolean().default(true),
  /**
   * Minimum cosine similarity of a semantic hit (the false-hit guard still applies above it). The default is the one the
   * shipped pair scorer's cutoff was chosen with (`switchyard cache-eval --fit`, src/cache/pair-weights.ts); a refitted
   * model prints its own, and the rules-only guard (`guard.scorer: false`) was measured at 0.89.
   */
  threshold: unit.default(DEFAULT_PAIR_MODEL.threshold),
  /** Per-intent thresholds; a rule's cache policy overrides these, the request header may only raise the result. */
  intent_thresholds: z.record(z.string(), unit).default({}),
  ttl_s: z.number().int().min(1).default(3600),
  /** Upper bound for a TTL asked for by header or rule. */
  max_ttl_s: z.number().int().min(1).default(86_400),
  max_entries: z.number().int().min(1).default(100_000),
  /** Bound on the memory held by entries (bodies, texts, vectors), in megabytes. */
  max_memory_mb: z.number().min(1).default(512),
  /**
   * Largest reply stored, in kilobytes: a larger one is served but not cached. A hit is written in one turn of the event
   * loop, so a 37 MB reply (top_logprobs on a long answer) held it for a second, and a few such entries would fill the
   * memory bound.
   */
  max_entry_kb: z.number().int().min(1).max(65_536).default(1024),
  /** Requests with a higher temperature are not cached (answers meant to vary). */
  max_temperature: z.number().min(0).max(2).default(1),
  /** Cache embeddings requests (exact repeats only). */
  embeddings: z.boolean().default(true),
  /** Concurrent identical misses wait for one upstream call instead of each making one. */
  single_flight: z.boolean().default(true),
  /** How long a follower waits for the leader's reply before going upstream itself. */
  single_flight_wait_ms: z.number().int().min(1).default(120_000),
  guard: guardConfigSchema.default(() => guardConfigSchema.parse({})),
  /** HNSW settings of each partition's index (full vectors; docs/cache.md, "Measured speed"). Unset keys take GRAPH_DEFAULTS. */
  index: z.object({
    M: z.number().int().min(4).max(96).optional(),
    ef_construction: z.number().int().min(10).max(1000).optional(),
    ef_search: z.number().int().min(10).max(1000).optional(),
    /** Removed: the index always searches the full vectors. Named here so a config that still sets it says so clearly. */
    projection: z.never({ error: REMOVED_PROJECTION }).optional(),
  }).strict().default({}),
  stats: z.object({
    /** Tenants, models and intents tracked individually; the rest are summed under "other". */
    top_n: z.number().int().min(1).max(1000).default(20),
  }).strict().default({ top_n: 20 }),
}).strict();

export type CacheConfig = z.infer<typeof cacheConfigSchema>;
export type GuardConfig = z.infer<typeof guardConfigSchema>;

export const defaultCacheConfig = (): CacheConfig => cacheConfigSchema.parse({});

export interface GraphParams { M: number; efConstruction: number; efSearch: number }

/**
 * Default HNSW settings: the cheapest setting on the grid (docs/cache.md) that keeps recall@1 >= 0.99 on queries the
 * benchmark does not measure. The synthetic stress set (100k 512-d vectors, much harder than real questions) decides:
 * real vectors reach 0.99 at ef_search 24-36, the stress set needs 64, and M 12 never reaches 0.99 there.
 */
export const GRAPH_DEFAULTS: Readonly<GraphParams> = { M: 16, efConstruction: 100, efSearch: 64 };

/** The settings the partition indexes use: the configured ones, the rest from the defaults. */
export function graphSettings(index: CacheConfig['index']): GraphParams {
  const d = GRAPH_DEFAULTS;
  return { M: index.M ?? d.M, efConstruction: index.ef_construction ?? d.efConstruction, efSearch: index.ef_search ?? d.efSearch };
}
