/**
 * Governance benchmarks: authentication, check-and-reserve + settle through the stage (memory and Redis), capacity reads and
 * token estimation. Returns plain numbers; Redis figures are omitted when no Redis answers at SWITCHYARD_BENCH_REDIS_URL
 * (default redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createClient } from 'redis';
import { governanceConfigSchema } from '../src/governance/config.js';
import { Governance } from '../src/governance/governance.js';
import { createGovernanceStage } from '../src/governance/stage.js';
import { estimateTokens } from '../src/governance/tokens.js';
import type { Caller, RequestContext } from '../src/pipeline/context.js';
import type { Redis } from '../src/store/redis-script.js';

const KEY = 'sk-sy-bench-secret-000000000000000000';

const config = governanceConfigSchema.parse({
  customers: [{ id: 'c', name: 'C', budget: { limit_usd: 1e9, period: 'monthly' } }],
  teams: [{ id: 't', name: 'T', customer_id: 'c', allowed_models: ['openai/*'], rate_limits: { requests_per_minute: 1e9, tokens_per_minute: 1e12 } }],
  keys: [{ id: 'k', name: 'K', key: KEY, team_id: 't', budget: { limit_usd: 1e9, period: 'daily' }, rate_limits: { requests_per_hour: 1e9 } }],
});

function ctxFor(caller: Caller): RequestContext {
  return {
    id: 'b', startedAt: 0, op: 'chat', protocol: 'openai.chat', requestType: 'chat_completion', model: 'gpt-4o-mini', stream: false, headers: {}, caller,
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Summarise the quarterly report in three bullet points, please.' }], max_tokens: 200 },
    signal: new AbortController().signal, route: { chain: [{ provider: 'openai', model: 'gpt-4o-mini' }], rule: 'default' },
    attempts: [], warnings: [], replyHeaders: {}, facts: {},
  };
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** Sequential latency (µs) and concurrent throughput (requests/s) of before + after through the stage. */
async function stageRound(gov: Governance, n: number, concurrency: number): Promise<{ p50: number; p99: number; rps: number }> {
  const stage = createGovernanceStage({ governance: gov });
  const caller = await gov.authenticate(`Bearer ${KEY}`);
  const one = async (): Promise<void> => {
    const ctx = ctxFor(caller);
    await stage.before!(ctx);
    stage.after!(ctx, { kind: 'json', status: 200, body: {}, usage: { prompt_tokens: 20, completion_tokens: 150, total_tokens: 170 } });
  };
  for (let i = 0; i < 200; i++) await one();
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await one();
    lat.push((performance.now() - t) * 1000);
  }
  await gov.enforcement.drain();
  lat.sort((a, b) => a - b);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next++ < n) await one(); }));
  await gov.enforcement.drain();
  return { p50: pct(lat, 0.5), p99: pct(lat, 0.99), rps: n / ((performance.now() - t0) / 1000) };
}

async function tryRedis(): Promise<Redis | undefined> {
  const url = process.env.SWITCHYARD_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const client = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 500, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client as unknown as Redis;
  } catch {
    return undefined;
  }
}

export async function benchGovernance(): Promise<Record<string, number>> {
  const logger = pino({ level: 'silent' });
  const out: Record<string, number> = {};

  const mem = await Governance.create({ config, logger });
  const authN = 200_000;
  for (let i = 0; i < 10_000; i++) mem.authenticateSync(`Bearer ${KEY}`);
  let t = performance.now();
  for (let i = 0; i < authN; i++) mem.authenticateSync(`Bearer ${KEY}`);
  out.auth_ns_per_op = ((performance.now() - t) * 1e6) / authN;

  const m = await stageRound(mem, 20_000, 64);
  out.memory_reserve_settle_p50_us = m.p50;
  out.memory_reserve_settle_p99_us = m.p99;
  out.memory_reserve_settle_rps = m.rps;

  const caller = await mem.authenticate(`Bearer ${KEY}`);
  t = performance.now();
  for (let i = 0; i < 10_000; i++) await mem.capacity(caller);
  out.capacity_cached_ns_per_op = ((performance.now() - t) * 1e6) / 10_000;
  await mem.close();

  const text = 'The quick brown fox jumps over the lazy dog; 12345 tokens, estimated quickly.\n'.repeat(2000);
  for (let i = 0; i < 5; i++) estimateTokens(text);
  t = performance.now();
  for (let i = 0; i < 20; i++) estimateTokens(text);
  out.token_estimate_mb_per_s = (text.length * 20) / 1e6 / ((performance.now() - t) / 1000);

  const redis = await tryRedis();
  if (redis !== undefined) {
    const prefix = `sybench:gov:${randomBytes(4).toString('hex')}:`;
    const gov = await Governance.create({ config, logger, redis, prefix });
    try {
      const r = await stageRound(gov, 5_000, 64);
      out.redis_reserve_settle_p50_us = r.p50;
      out.redis_reserve_settle_p99_us = r.p99;
      out.redis_reserve_settle_rps = r.rps;
    } finally {
      await gov.close();
      const keys: string[] = [];
      for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
      if (keys.length > 0) await redis.del(keys);
      redis.destroy();
    }
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchGovernance().then((r) => console.log(JSON.stringify(r, null, 2)), (err) => { console.error(err); process.exitCode = 1; });
}
