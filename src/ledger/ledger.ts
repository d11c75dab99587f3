/**
 * The spend ledger: every settled request's cost, counterfactual baseline and savings, filed by key, team, customer,
 * provider, model, rule, intent and cache outcome in hourly buckets — in memory (this process, bounded retention) and, when
 * governance shares state through Redis, in Redis for every instance (flushed in batches). Listeners (the cost metrics) see
 * each entry as it is recorded.
 */
import type { Logger } from 'pino';
import type { Redis } from '../store/redis-script.js';
import { HOUR_MS, HourlyBook, hourOf, rowId } from './book.js';
import type { LedgerConfig } from './config.js';
import type { LedgerEntry } from './entry.js';
import { RedisLedgerBook } from './redis-book.js';
import { buildReport, type UsageQuery, type UsageReport } from './report.js';

export interface LedgerDeps {
  config: LedgerConfig;
  logger: Logger;
  /** Shared buckets in Redis (the guarded client); omitted: this process's memory only. */
  redis?: Redis;
  /** Prefix of the Redis keys. */
  prefix: string;
  now?: () => number;
}

export class Ledger {
  private cfg: LedgerConfig;
  private readonly book: HourlyBook;
  private readonly shared: RedisLedgerBook | undefined;
  private readonly listeners: Array<(e: LedgerEntry) => void> = [];
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: LedgerDeps) {
    this.cfg = deps.config;
    this.now = deps.now ?? Date.now;
    this.book = new HourlyBook(this.cfg.max_rows_per_hour, this.cfg.retention_hours);
    this.shared = deps.redis === undefined ? undefined : new RedisLedgerBook(deps.redis, {
      prefix: deps.prefix, ttlHours: this.cfg.redis_ttl_hours, maxRows: this.cfg.max_rows_per_hour, logger: deps.logger, now: this.now,
    });
    this.schedule();
  }

  get config(): LedgerConfig {
    return this.cfg;
  }

  /** Where reports come from: every instance (Redis) or this process. */
  get store(): 'redis' | 'memory' {
    return this.shared === undefined ? 'memory' : 'redis';
  }

  /** Applies a reloaded `governance.ledger` section; what is recorded stays. */
  configure(cfg: LedgerConfig): void {
    this.cfg = cfg;
    this.book.maxRows = cfg.max_rows_per_hour;
    this.book.retentionHours = cfg.retention_hours;
    this.shared?.configure(cfg.redis_ttl_hours, cfg.max_rows_per_hour);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.shared === undefined) return;
    this.timer = setInterval(() => void this.shared!.flush(), this.cfg.flush_interval_ms);
    this.timer.unref();
  }

  /** Called with every entry as it is recorded (metrics). A listener must not throw. */
  onEntry(fn: (e: LedgerEntry) => void): void {
    this.listeners.push(fn);
  }

  record(entry: LedgerEntry): void {
    const id = rowId(entry.dims);
    const row = this.book.add(entry.at, entry.dims, entry.amounts, id);
    // Redis files the entry in the row this process's book chose (past max_rows_per_hour, one of fewer dimensions): the
    // pending book alone bounds one flush, not the hour's hash, which every flush of the hour adds to.
    this.shared?.add(entry.at, row.dims, entry.amounts, row.id ?? id);
    for (const l of this.listeners) l(entry);
  }

  /** Sends this process's pending rows to Redis now (no-op without Redis). */
  flush(): Promise<void> {
    return this.shared?.flush() ?? Promise.resolve();
  }

  /**
   * The usage report for a range: from Redis (this process's pending rows flushed first) when shared, else — or when Redis
   * cannot be read — from this process's memory, which the report's `source` says.
   */
  async report(q: UsageQuery): Promise<UsageReport> {
    // Nothing is recorded ahead of the clock (an hour of slack for clocks between instances): a far-future `to` reads no more.
    const toHour = Math.min(hourOf(Math.max(q.from, q.to - 1)), hourOf(this.now()) + HOUR_MS);
    const fromHour = Math.min(hourOf(q.from), toHour);
    if (this.shared !== undefined) {
      try {
        await this.shared.flush();
        return buildReport(await this.shared.read(fromHour, toHour), q, 'redis');
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error).message }, 'spend ledger: Redis could not be read; reporting this instance only');
      }
    }
    return buildReport(this.book.rows(fromHour, toHour), q, 'memory');
  }

  /** The oldest instant a report can cover. */
  horizon(): number {
    const hours = this.shared === undefined ? this.cfg.retention_hours : Math.max(this.cfg.retention_hours, this.cfg.redis_ttl_hours);
    return hourOf(this.now()) - (hours - 1) * HOUR_MS;
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
