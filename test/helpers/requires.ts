/**
 * What some suites need from the machine — a Redis server, a Chromium binary — probed once per test file. A suite whose need
 * is not met is registered as one skipped test that names the reason (node's runner counts skipped tests in its summary, not
 * skipped suites), so `npm test` finishes everywhere and says what it did not run.
 *
 * SWITCHYARD_TEST_REDIS_URL points the Redis tests at another server (default redis://127.0.0.1:6379; tests write only keys
 * under a random prefix). SWITCHYARD_TEST_REQUIRE=redis,chromium turns a missing one into a failure instead (CI, which
 * starts Redis itself, sets it for Redis).
 */
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createClient } from 'redis';

export const TEST_REDIS_URL = process.env.SWITCHYARD_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
export const CHROMIUM = '/usr/bin/chromium';

const required = new Set((process.env.SWITCHYARD_TEST_REQUIRE ?? '').split(',').map((s) => s.trim()).filter(Boolean));

/** A skip reason, or a thrown error when the requirement was declared mandatory. */
function unmet(need: string, reason: string): string {
  if (required.has(need)) throw new Error(`${reason}, and SWITCHYARD_TEST_REQUIRE lists ${need}`);
  return reason;
}

/** False when a Redis server at `url` answers PING within `timeoutMs`, else why not. Never retries, never waits longer. */
async function probeRedis(url: string, timeoutMs: number): Promise<string | false> {
  const client = createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: false }, disableOfflineQueue: true });
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs); });
  try {
    await Promise.race([client.connect().then(() => client.ping()), timeout]);
    return false;
  } catch (err) {
    return `no Redis answered at ${url} (${(err as Error).message}); start redis-server or set SWITCHYARD_TEST_REDIS_URL`;
  } finally {
    clearTimeout(timer);
    if (client.isOpen) client.destroy();
  }
}

/** Why Redis suites skip (false: a Redis answered). */
export const redisSkip: string | false = await probeRedis(TEST_REDIS_URL, 1000).then((r) => (r ? unmet('redis', r) : false));

/** Why browser suites skip (false: Chromium is installed). */
export const chromiumSkip: string | false = existsSync(CHROMIUM) ? false : unmet('chromium', `${CHROMIUM} is not installed (apt-get install -y chromium)`);

/** `describe`, or — when `skip` gives a reason — one skipped test of the same name, so the summary counts it. */
export function suite(name: string, skip: string | false, fn: () => void): void {
  if (skip) test(name, { skip }, () => undefined);
  else describe(name, fn);
}

/** A Redis client on the test server that fails fast while disconnected (the caller closes it). */
export async function testRedisClient(): Promise<ReturnType<typeof createClient>> {
  const client = createClient({ url: TEST_REDIS_URL, disableOfflineQueue: true });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}
