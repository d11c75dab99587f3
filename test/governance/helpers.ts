import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { Governance } from '../../src/governance/governance.js';
import { governanceConfigSchema } from '../../src/governance/config.js';
import type { Redis } from '../../src/store/redis-script.js';
import { testRedisClient } from '../helpers/requires.js';
import type { Caller, RequestContext, RouteDecision } from '../../src/pipeline/context.js';
import type { Gateway } from '../../src/gateway.js';
import { gateway } from '../helpers/gateway.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';

export const silent = pino({ level: 'silent' });

export async function redisClient(): Promise<Redis> {
  return (await testRedisClient()) as unknown as Redis;
}

export const uniquePrefix = (): string => `sytest:gov:${randomBytes(6).toString('hex')}:`;

export async function cleanup(client: Redis, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
  if (keys.length > 0) await client.del(keys);
}

export async function makeGov(
  config: Record<string, unknown>,
  opts: { redis?: Redis; prefix?: string; now?: () => number } = {},
): Promise<Governance> {
  return Governance.create({ config: governanceConfigSchema.parse(config), logger: silent, redis: opts.redis, prefix: opts.prefix, now: opts.now });
}

export function makeCtx(caller: Caller, init: { model?: string; body?: Record<string, unknown>; route?: RouteDecision; stream?: boolean } = {}): RequestContext {
  const model = init.model ?? 'gpt-4o-mini';
  return {
    id: randomBytes(4).toString('hex'),
    startedAt: performance.now(),
    op: 'chat',
    protocol: 'openai.chat',
    requestType: init.stream ? 'chat_completion_stream' : 'chat_completion',
    body: init.body ?? { model, messages: [{ role: 'user', content: 'Hello there, how are you today?' }], max_tokens: 100 },
    model,
    stream: init.stream ?? false,
    headers: {},
    caller,
    signal: new AbortController().signal,
    route: init.route ?? { chain: [{ provider: 'openai', model }], rule: 'default' },
    attempts: [],
    warnings: [],
    replyHeaders: {},
    facts: {},
  };
}

/** A gateway over two upstreams on loopback, `cheap` serving `small` and `strong` serving `big`, each with one key. */
export interface TwoTiers {
  cheap: ScriptedUpstream;
  strong: ScriptedUpstream;
  gw: Gateway;
  close(): Promise<void>;
}

/**
 * A gateway whose routes may end on the dearer of two models (a fallback, a cascade's later tier): `config` is everything
 * but its providers, which are the two upstreams.
 */
export async function twoTiers(config: Record<string, unknown>): Promise<TwoTiers> {
  const [cheap, strong] = await Promise.all([startScriptedUpstream(), startScriptedUpstream()]);
  const keys = [{ id: 'k1', value: 'key-k1' }];
  const gw = await gateway({
    ...config,
    providers: {
      cheap: { kind: 'openai', base_url: cheap.url, models: ['small'], keys },
      strong: { kind: 'openai', base_url: strong.url, models: ['big'], keys },
    },
  });
  return {
    cheap,
    strong,
    gw,
    close: async () => {
      await gw.close();
      await Promise.all([cheap.close(), strong.close()]);
    },
  };
}

/** What the admin API says virtual key `id` has spent of its budget (0 without a budget). */
export async function keySpend(gw: Gateway, adminKey: string, id: string): Promise<number> {
  const r = await fetch(`${gw.url}/admin/keys/${id}/usage`, { headers: { 'x-admin-key': adminKey } });
  return ((await r.json()) as { budget: { used_usd: number } | null }).budget?.used_usd ?? 0;
}
