/**
 * Long-lived services that outlive config reloads: the shared Redis connection, the rule manager, the health registry.
 * Created once at start from the first config; each owns its own reload path.
 */
import type { RedisClientType } from 'redis';
import { providerCatalog, type Config } from './config/schema.js';
import type { Logger } from './observability/logger.js';
import { HealthRegistry } from './providers/health-registry.js';
import { RedisGuard, type RedisGuardHealth } from './store/redis-guard.js';
import { redisModule } from './store/redis-module.js';
import { MemoryRuleStore, RedisRuleStore, RuleErrorReporter, RuleManager, RuleSetError, formatProblems } from './rules/index.js';
import { SemanticCache } from './cache/index.js';
import { Governance } from './governance/index.js';
import { createSemanticService, type SemanticService } from './semantic/service.js';

export interface Services {
  /** The shared Redis client, guarded (every command bounded, a breaker around Redis); undefined without redis.url. */
  readonly redis: RedisClientType | undefined;
  /** The state of Redis as the gateway sees it, for /ready; undefined without redis.url. */
  redisHealth(): RedisGuardHealth | undefined;
  readonly registry: HealthRegistry;
  readonly rules: RuleManager;
  readonly ruleErrors: RuleErrorReporter;
  /** Local embeddings and intent classification; undefined when semantic.enabled is false. */
  readonly semantic: SemanticService | undefined;
  /**
   * The response cache; undefined when cache.enabled was false at start-up. Its settings reload live except those that
   * shape the index or the store (SemanticCache.prepare).
   */
  readonly cache: SemanticCache | undefined;
  /** Virtual keys, teams, customers, budgets and rate limits. */
  readonly governance: Governance;
  /** Installs the config file's rules; throws ConfigRefused and changes nothing when they do not compile. Synchronous. */
  applyRules(config: Config): void;
  /**
   * Checks the cache section of a new config; returns what applies it and the cache settings that wait for a restart
   * (turning on a cache that was off at start-up is one). Throws ConfigRefused, changing nothing, when it cannot be used.
   */
  prepareCache(config: Config): { apply: () => void; restartKeys: string[] };
  /**
   * Checks the governance section of a new config against the entities stored through the admin API; throws ConfigRefused,
   * changing nothing, when it drops a customer or team they still refer to.
   */
  checkGovernance(config: Config): void;
  /** Applies the governance section (entities, limits, prices). */
  applyGovernance(config: Config): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects to Redis with fail-fast commands while disconnected, reconnects in the background, and guards every command
 * (timeout, breaker: ./store/redis-guard.ts).
 */
export async function connectRedis(cfg: Config['redis'] & { url: string }, logger: Logger): Promise<RedisGuard> {
  const client = redisModule().createClient({
    url: cfg.url,
    disableOfflineQueue: true,
    socket: { connectTimeout: cfg.connect_timeout_ms, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
  }) as RedisClientType;
  let lastLogged = 0;
  client.on('error', (err: Error) => {
    if (Date.now() - lastLogged > 10_000) {
      lastLogged = Date.now();
      logger.warn({ err: err.message }, 'redis connection error; state falls back as configured until it returns');
    }
  });
  await client.connect();
  return new RedisGuard(client, { commandTimeoutMs: cfg.command_timeout_ms, failures: cfg.breaker_failures, cooldownMs: cfg.breaker_cooldown_ms });
}

export class ConfigRefused extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join('; '));
    this.name = 'ConfigRefused';
  }
}

export interface ServiceHooks {
  /** Called when a rule fails at evaluation time (counted as no match). */
  onRuleError?: (rule: string) => void;
  /** Called after every embedding model call with its latency and batch size. */
  onEmbedBatch?: (latencyMs: number, batchSize: number) => void;
}

/** The cache section as the cache sees it: without local embeddings there is no semantic layer. */
const cacheSection = (config: Config, semantic: SemanticService | undefined): Config['cache'] =>
  (semantic ? config.cache : { ...config.cache, semantic: false });

export async function createServices(config: Config, logger: Logger, rootDir: string, hooks: ServiceHooks = {}): Promise<Services> {
  const guard = config.redis.url ? await connectRedis({ ...config.redis, url: config.redis.url }, logger) : undefined;
  const redis = guard?.client;
  const opened: Array<{ close(): Promise<void> }> = [];
  const abandon = async (): Promise<void> => {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
    await redis?.quit().catch(() => undefined);
  };
  const prefix = config.redis.key_prefix;
  const registry = new HealthRegistry(config.balancing, config.circuit);
  const ruleErrors = new RuleErrorReporter({ logger, onError: (rule) => hooks.onRuleError?.(rule) });
  let rules: RuleManager;
  try {
    rules = await RuleManager.create({
      store: redis ? new RedisRuleStore(redis, prefix) : new MemoryRuleStore(),
      fileRules: config.rules,
      providers: providerCatalog(config.providers),
      logger,
    });
    opened.push(rules);
  } catch (err) {
    await abandon();
    if (err instanceof RuleSetError) throw new ConfigRefused(err.problems.map((p) => formatProblems([p])));
    throw err;
  }
  let semantic: SemanticService | undefined;
  let cache: SemanticCache | undefined;
  let governance: Governance;
  try {
    governance = await Governance.create({ config: config.governance, logger, redis, prefix: `${prefix}gov:` });
    opened.push(governance);
    // A configured model that cannot load fails start-up here, naming the missing files.
    if (config.semantic.enabled) opened.push((semantic = await createSemanticService(config.semantic, { rootDir, logger, onEmbedBatch: hooks.onEmbedBatch })));
    if (config.cache.enabled) {
      if (config.cache.store === 'redis' && !redis) throw new ConfigRefused(['cache.store: redis needs redis.url']);
      const gov = governance;
      cache = await SemanticCache.create({
        dim: semantic?.dim ?? 1,
        embedderSpace: semantic?.embedderSpace,
        logger,
        config: cacheSection(config, semantic),
        redis: config.cache.store === 'redis' ? redis : undefined,
        priceOf: (model, usage) => {
          const slash = model.indexOf('/');
          return slash > 0 ? gov.pricing.costOf(model.slice(0, slash), model.slice(slash + 1), usage) : gov.pricing.costOf('', model, usage);
        },
      });
      opened.push(cache);
    }
  } catch (err) {
    await abandon();
    throw err;
  }
  return {
    redis,
    redisHealth: () => guard?.health(),
    registry,
    rules,
    ruleErrors,
    semantic,
    cache,
    governance,
    applyRules(next) {
      const res = rules.setFileRules(next.rules, { providers: providerCatalog(next.providers) });
      if (!res.ok) throw new ConfigRefused(res.problems.map((p) => formatProblems([p])));
    },
    prepareCache(next) {
      if (cache === undefined) return { apply: () => undefined, restartKeys: next.cache.enabled ? ['cache.enabled'] : [] };
      let prepared: ReturnType<SemanticCache['prepare']>;
      try {
        prepared = cache.prepare(cacheSection(next, semantic));
      } catch (err) {
        throw new ConfigRefused([`${next.cache.guard.scorer_file !== undefined ? 'cache.guard.scorer_file' : 'cache'}: ${(err as Error).message}`]);
      }
      return { apply: prepared.apply, restartKeys: prepared.restartKeys.map((k) => `cache.${k}`) };
    },
    checkGovernance(next) {
      const problems = governance.referenceProblems(next.governance);
      if (problems.length > 0) throw new ConfigRefused(problems);
    },
    applyGovernance: (next) => governance.reconfigure(next.governance),
    async close() {
      await abandon();
    },
  };
}
