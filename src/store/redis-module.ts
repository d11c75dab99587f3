/**
 * The `redis` package, loaded on first use: only a gateway with redis.url (or a test that builds a Redis store) pays for
 * importing it, which is a noticeable share of start-up otherwise. The package is CommonJS, so loading it through
 * `require` gives the same module (and the same classes) as any `import` of it elsewhere.
 */
import { createRequire } from 'node:module';

type RedisModule = typeof import('redis');

const require = createRequire(import.meta.url);
let loaded: RedisModule | undefined;

export function redisModule(): RedisModule {
  return (loaded ??= require('redis') as RedisModule);
}

/**
 * Whether `err` is Redis's own error reply (NOSCRIPT, WRONGTYPE, ...): Redis answered, it is not an outage. Never loads
 * the package: without it loaded, no reply of its can exist (and an error path must not start a synchronous load).
 */
export function isErrorReply(err: unknown): boolean {
  return loaded !== undefined && err instanceof loaded.ErrorReply;
}
