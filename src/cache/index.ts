/** The semantic cache's public surface. */
export { cacheConfigSchema, defaultCacheConfig, type CacheConfig, type GuardConfig } from './config.js';
export { SemanticCache, type SemanticCacheOptions, type Hit, type EntryInfo } from './semantic-cache.js';
export { createCacheStage, type CacheStageDeps, type CacheOutcome } from './stage.js';
export { cacheAdminRouter, cacheStatsRouter } from './routes.js';
export type { CacheEvent, CacheEventListener, StatsSnapshot } from './stats.js';
export { extractFeatures, guardVerdict, type GuardCheck, type GuardOptions } from './guard.js';
export { requestKey, type RequestKey, type SkipReason } from './request-key.js';
