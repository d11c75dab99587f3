/**
 * Runs a Lua script by its SHA1 and loads it on first use (or after SCRIPT FLUSH / a failover), so the script text crosses the
 * wire once per server rather than once per call.
 */
import { createHash } from 'node:crypto';
import type { RedisClientType } from 'redis';

export type Redis = RedisClientType;

export class RedisScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await client.evalSha(this.sha, { keys, arguments: args });
    } catch (err) {
      if (!String((err as Error)?.message ?? '').startsWith('NOSCRIPT')) throw err;
      return client.eval(this.source, { keys, arguments: args });
    }
  }
}
