/**
 * The shared (Redis) ledger keeps the per-hour row bound the in-memory book keeps: rows past max_rows_per_hour fold into the
 * "other" row in Redis too, however many flushes they are spread over. A row's dimensions include the answering model,
 * which a caller names (`provider/<any model>`), so without the bound one caller could add rows to an hour's hash at every
 * flush, for redis_ttl_hours, and every /admin/usage read would load them all.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { HOUR_MS } from '../../src/ledger/book.js';
import { ledgerConfigSchema } from '../../src/ledger/config.js';
import { AMOUNTS, DIMENSIONS } from '../../src/ledger/entry.js';
import { Ledger } from '../../src/ledger/ledger.js';
import type { Redis } from '../../src/store/redis-script.js';
import { redisSkip, suite, testRedisClient } from '../helpers/requires.js';

suite('shared ledger rows per hour', redisSkip, () => {
  let redis: Awaited<ReturnType<typeof testRedisClient>>;
  const prefix = `sy-test-${randomUUID()}:`;
  before(async () => { redis = await testRedisClient(); });
  after(async () => {
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
    redis.destroy();
  });

  test('rows past max_rows_per_hour fold into "other" across flushes, as in memory', async () => {
    const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const now = hour + 1000;
    const config = ledgerConfigSchema.parse({ max_rows_per_hour: 5, flush_interval_ms: 3_600_000 });
    const ledger = new Ledger({ config, logger: pino({ level: 'silent' }), redis: redis as unknown as Redis, prefix, now: () => now });
    const amounts = AMOUNTS.map((a) => (a === 'requests' ? 1 : 0));
    const dims = (model: string): string[] => DIMENSIONS.map((d) => (d === 'model' ? model : d === 'key' ? 'vk1' : ''));
    for (let flush = 0; flush < 4; flush++) {
      // A row the hour already holds goes on adding to it.
      ledger.record({ at: now, dims: dims('m-0-0'), amounts });
      for (let i = 0; i < 5; i++) ledger.record({ at: now, dims: dims(`m-${flush}-${i}`), amounts });
      await ledger.flush();
    }
    const fields = await redis.hKeys(`${prefix}ledger:${hour}`);
    const rows = new Set(fields.map((f) => f.slice(f.indexOf(':') + 1)));
    assert.ok(rows.size <= 6, `${rows.size} rows in the hour's hash (5 and "other" expected)`);
    const report = await ledger.report({ from: hour, to: hour + HOUR_MS, groupBy: ['model'] });
    assert.equal(report.source, 'redis');
    assert.equal(report.totals.requests, 24, 'every request still counted');
    const byModel = Object.fromEntries(report.groups.map((g) => [g.model, g.requests]));
    assert.equal(byModel['m-0-0'], 5, JSON.stringify(report.groups));
    assert.equal(byModel.other, 15);
    await ledger.close();
  });
});
