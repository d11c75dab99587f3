/**
 * The ledger in Redis, shared by every instance: one hash per hour (`<prefix>ledger:<hour ms>`), a field per amount and
 * dimension row (`<amount index>:<row id>`), HINCRBY'd by each instance. Requests add to a pending book in memory; a flush
 * sends it as one pipeline (every command bounded by the Redis guard) and sets the hour's TTL. A failed flush puts its rows
 * back into the pending book (bounded like any book) for the next one, so an outage delays the shared figures but loses
 * nothing that fits; a flush whose reply came too late is sent again only if it then fails, so nothing counts twice.
 */
import type { Logger } from 'pino';
import { RedisUnavailableError } from '../store/redis-guard.js';
import type { Redis } from '../store/redis-script.js';
import { AMOUNTS, DIMENSIONS } from './entry.js';
import { HOUR_MS, HourlyBook, hourOf, type Row } from './book.js';

export interface RedisBookOptions {
  prefix: string;
  ttlHours: number;
  maxRows: number;
  logger: Logger;
  now: () => number;
}

export class RedisLedgerBook {
  private pending: HourlyBook;
  private flushing: Promise<void> = Promise.resolve();
  private lastWarn = 0;

  constructor(private readonly redis: Redis, private opts: RedisBookOptions) {
    this.pending = new HourlyBook(opts.maxRows);
  }

  /** New TTL and row cap (config reload); pending rows are kept. */
  configure(ttlHours: number, maxRows: number): void {
    this.opts = { ...this.opts, ttlHours, maxRows };
  }

  private key(hour: number): string {
    return `${this.opts.prefix}ledger:${hour}`;
  }

  add(at: number, dims: readonly string[], amounts: readonly number[], id: string): void {
    this.pending.add(at, dims, amounts, id);
  }

  /** Sends the pending rows (after any flush already running). Never rejects; a failure is logged and retried next time. */
  flush(): Promise<void> {
    const next = this.flushing.then(() => this.flushOnce());
    this.flushing = next;
    return next;
  }

  private async flushOnce(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new HourlyBook(this.opts.maxRows);
    const ttlMs = this.opts.ttlHours * HOUR_MS;
    const oldest = hourOf(this.opts.now()) - ttlMs;
    try {
      await this.send(batch, oldest, ttlMs);
    } catch (err) {
      const keep = (): void => {
        for (const [hour, rows] of batch.entries()) for (const [id, row] of rows) this.pending.add(hour, row.dims, row.amounts, id);
      };
      // Sent but unanswered in time: Redis may still add the rows, so they are kept only if the pipeline fails after all
      // (sending them again at once would count them twice).
      if (err instanceof RedisUnavailableError && err.late !== undefined) void err.late.then(() => undefined, keep);
      else keep();
      const now = Date.now();
      if (now - this.lastWarn > 10_000) {
        this.lastWarn = now;
        this.opts.logger.warn({ err: (err as Error).message }, 'spend ledger: Redis write failed; the rows are kept and sent with the next flush');
      }
    }
  }

  private async send(batch: HourlyBook, oldest: number, ttlMs: number): Promise<void> {
    const multi = this.redis.multi();
    let commands = 0;
    for (const [hour, rows] of batch.entries()) {
      if (hour < oldest) continue;
      const key = this.key(hour);
      for (const [id, row] of rows) {
        row.amounts.forEach((v, i) => {
          if (v !== 0) {
            multi.hIncrBy(key, `${i}:${id}`, v);
            commands++;
          }
        });
      }
      // Expires an hour's bucket ttl after the hour ends.
      multi.pExpireAt(key, hour + HOUR_MS + ttlMs);
      commands++;
    }
    if (commands > 0) await multi.execAsPipeline();
  }

  /** Every instance's rows of the hours in [fromHour, toHour] (clamped to the TTL), read in one pipeline. */
  async read(fromHour: number, toHour: number): Promise<Array<{ hour: number; row: Row }>> {
    const oldest = hourOf(this.opts.now()) - this.opts.ttlHours * HOUR_MS;
    const hours: number[] = [];
    for (let h = Math.max(fromHour, oldest); h <= toHour; h += HOUR_MS) hours.push(h);
    if (hours.length === 0) return [];
    const multi = this.redis.multi();
    for (const h of hours) multi.hGetAll(this.key(h));
    const replies = (await multi.execAsPipeline()) as unknown as Array<Record<string, string>>;
    const out: Array<{ hour: number; row: Row }> = [];
    hours.forEach((hour, n) => {
      const rows = new Map<string, Row>();
      for (const [field, value] of Object.entries(replies[n] ?? {})) {
        const colon = field.indexOf(':');
        const i = Number(field.slice(0, colon));
        const id = field.slice(colon + 1);
        if (!(i >= 0 && i < AMOUNTS.length)) continue;
        let row = rows.get(id);
        if (row === undefined) {
          const dims = parseDims(id);
          if (dims === undefined) continue;
          rows.set(id, (row = { dims, amounts: new Array<number>(AMOUNTS.length).fill(0) }));
        }
        const n = Number(value);
        if (Number.isFinite(n)) row.amounts[i] += n; // a field written by something else never turns a total into NaN
      }
      for (const row of rows.values()) out.push({ hour, row });
    });
    return out;
  }
}

function parseDims(id: string): string[] | undefined {
  try {
    const v: unknown = JSON.parse(id);
    return Array.isArray(v) && v.length === DIMENSIONS.length && v.every((d) => typeof d === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}
