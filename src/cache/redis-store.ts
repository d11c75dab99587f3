/**
 * Redis storage for the cache, shared by every gateway instance. Each entry is one hash (metadata, vector, reply body) with
 * the entry's TTL; a sorted set indexes live keys by expiry so an instance can rebuild its local mirror at start; writes,
 * deletions and clears are published on a channel so every instance's mirror follows within milliseconds. When Redis is
 * unreachable every call fails fast (bounded by a timeout), lookups that need Redis count as misses, and the mirror is
 * resynchronised once the connection is ready again.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RedisClientType } from 'redis';
import type { Operation } from '../providers/types.js';
import type { EntryMeta, LocalIndex } from './local-index.js';
import { storedReply, usageOf, type CachedReply } from './reply.js';

type Event =
  | { s: string; t: 'add'; m: EntryMeta; v?: string; o: Operation }
  | { s: string; t: 'del'; k: string[] }
  | { s: string; t: 'clear' }
  | { s: string; t: 'part'; p: string };

const toB64 = (v: Float32Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
function fromB64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

class TimeoutError extends Error {}

export class RedisStore {
  private readonly id = randomUUID();
  private readonly channel: string;
  private readonly idx: string;
  private subscriber: RedisClientType | undefined;
  private readonly onReady = (): void => { if (this.wasDown) void this.resync(); };
  private readonly onDown = (): void => { this.wasDown = true; };
  private wasDown = false;
  private syncing: Promise<void> | undefined;
  private lastWarn = 0;
  private readonly cleaner: NodeJS.Timeout;

  constructor(
    private readonly client: RedisClientType,
    private readonly prefix: string,
    private readonly timeoutMs: number,
    private readonly mirror: LocalIndex,
    private readonly logger: Logger,
    private readonly onError: (operation: string) => void,
    private readonly now: () => number,
  ) {
    this.channel = `${prefix}events`;
    this.idx = `${prefix}idx`;
    this.cleaner = setInterval(() => { void this.call('cleanup', () => this.client.zRemRangeByScore(this.idx, '-inf', this.now())); }, 60_000);
    this.cleaner.unref();
  }

  private entryKey(key: string): string { return `${this.prefix}e:${key}`; }

  /** Subscribes to other instances' writes and loads the live entries into the mirror. */
  async start(): Promise<void> {
    const sub = this.client.duplicate() as RedisClientType;
    sub.on('error', (err: Error) => this.warn('subscriber', err));
    await sub.connect();
    await sub.subscribe(this.channel, (message) => this.apply(message));
    this.subscriber = sub;
    this.client.on('ready', this.onReady);
    this.client.on('end', this.onDown);
    this.client.on('reconnecting', this.onDown);
    this.client.on('error', this.onDown);
    await this.resync();
  }

  /** Brings the mirror in line with Redis: adds what it lacks, drops what Redis no longer has. */
  resync(): Promise<void> {
    this.syncing ??= this.doResync().finally(() => { this.syncing = undefined; });
    return this.syncing;
  }

  private async doResync(): Promise<void> {
    const now = this.now();
    const live = await this.call('resync', () => this.client.zRangeByScore(this.idx, now, '+inf'), 30_000);
    if (live === undefined) return;
    this.wasDown = false;
    const wanted = new Set(live);
    const stale: string[] = [];
    for (const k of this.mirror.keys()) if (!wanted.has(k)) stale.push(k);
    for (const k of stale) this.mirror.remove(k, 'deleted', false);
    const missing = live.filter((k) => this.mirror.peek(k) === undefined);
    for (let i = 0; i < missing.length; i += 256) {
      const batch = missing.slice(i, i + 256);
      const rows = await this.call('resync', () => {
        const m = this.client.multi();
        for (const k of batch) m.hmGet(this.entryKey(k), ['m', 'v']);
        return m.exec();
      }, 30_000);
      if (rows === undefined) return;
      rows.forEach((row) => {
        const [m, v] = row as unknown as [string | null, string | null];
        if (m === null) return;
        const meta = JSON.parse(m) as EntryMeta;
        if (meta.expiresAt > this.now()) this.mirror.add(meta, v ? fromB64(v) : undefined, undefined);
      });
    }
    this.logger.info({ entries: this.mirror.size, loaded: missing.length, dropped: stale.length }, 'cache mirror synchronised with Redis');
  }

  /** Writes an entry; the mirror holds it once this resolves true. */
  async put(meta: EntryMeta, vector: Float32Array | undefined, reply: CachedReply): Promise<boolean> {
    const v = vector ? toB64(vector) : '';
    const key = this.entryKey(meta.key);
    const event: Event = { s: this.id, t: 'add', m: meta, o: reply.op, ...(v ? { v } : {}) };
    const ok = await this.call('store', () => this.client.multi()
      .hSet(key, { m: JSON.stringify(meta), v, o: reply.op, b: reply.json, h: 0 })
      .pExpireAt(key, meta.expiresAt)
      .zAdd(this.idx, { score: meta.expiresAt, value: meta.key })
      // The index of live entries outlives its latest entry by nothing: with no instance left to clean it, it expires too.
      .pExpireAt(this.idx, meta.expiresAt, 'NX')
      .pExpireAt(this.idx, meta.expiresAt, 'GT')
      .publish(this.channel, JSON.stringify(event))
      .exec());
    if (ok === undefined) return false;
    this.mirror.add(meta, vector, undefined);
    return true;
  }

  /** The stored reply of an entry, or undefined when Redis no longer has it or cannot be reached in time. */
  async reply(meta: EntryMeta): Promise<CachedReply | undefined> {
    const row = await this.call('lookup', () => this.client.hmGet(this.entryKey(meta.key), ['o', 'b']));
    if (row === undefined) return undefined;
    const [op, b] = row as unknown as [string | null, string | null];
    if (op === null || b === null) {
      this.mirror.remove(meta.key, 'deleted', false);
      return undefined;
    }
    const body = JSON.parse(b) as Record<string, unknown>;
    return storedReply(op as Operation, b, usageOf(body.usage), body.model);
  }

  /** Counts a hit in Redis (fire and forget). */
  touch(key: string): void {
    void this.call('touch', () => this.client.hIncrBy(this.entryKey(key), 'h', 1));
  }

  async hits(key: string): Promise<number | undefined> {
    const h = await this.call('inspect', () => this.client.hGet(this.entryKey(key), 'h'));
    return h === undefined || h === null ? undefined : Number(h);
  }

  /** Deletes entries everywhere (this instance's mirror already dropped them). */
  async remove(keys: string[], publish: boolean): Promise<void> {
    if (keys.length === 0) return;
    await this.call('delete', () => {
      const m = this.client.multi().del(keys.map((k) => this.entryKey(k))).zRem(this.idx, keys);
      if (publish) m.publish(this.channel, JSON.stringify({ s: this.id, t: 'del', k: keys } satisfies Event));
      return m.exec();
    });
  }

  async clear(): Promise<void> {
    const keys = await this.call('clear', () => this.client.zRange(this.idx, 0, -1), 30_000);
    if (keys === undefined) return;
    for (let i = 0; i < keys.length; i += 1000) await this.remove(keys.slice(i, i + 1000), false);
    await this.call('clear', () => this.client.publish(this.channel, JSON.stringify({ s: this.id, t: 'clear' } satisfies Event)));
  }

  /** Deletes a partition's entries; `keys` are the ones this instance knew, the others are dropped by their holders. */
  async clearPartition(partition: string, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) await this.remove(keys.slice(i, i + 1000), false);
    await this.call('clear', () => this.client.publish(this.channel, JSON.stringify({ s: this.id, t: 'part', p: partition } satisfies Event)));
  }

  async close(): Promise<void> {
    clearInterval(this.cleaner);
    this.client.off('ready', this.onReady);
    this.client.off('end', this.onDown);
    this.client.off('reconnecting', this.onDown);
    this.client.off('error', this.onDown);
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub?.isOpen) await sub.close().catch(() => undefined);
  }

  private apply(message: string): void {
    let e: Event;
    try { e = JSON.parse(message) as Event; } catch { return; }
    if (e.s === this.id) return;
    switch (e.t) {
      case 'add':
        if (e.m.expiresAt > this.now()) this.mirror.add(e.m, e.v ? fromB64(e.v) : undefined, undefined);
        return;
      case 'del':
        for (const k of e.k) this.mirror.remove(k, 'deleted', false);
        return;
      case 'clear':
        this.mirror.clear();
        return;
      case 'part': {
        const keys = this.mirror.removePartition(e.p);
        void this.remove(keys, false);
        return;
      }
    }
  }

  /** Runs one Redis call bounded by the timeout; failures are counted, logged (at most every 10 s) and give undefined. */
  private async call<T>(operation: string, fn: () => Promise<T>, timeoutMs = this.timeoutMs): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new TimeoutError(`timed out after ${timeoutMs} ms`)), timeoutMs); }),
      ]);
    } catch (err) {
      this.wasDown = true;
      this.onError(operation);
      this.warn(operation, err);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private warn(operation: string, err: unknown): void {
    const t = this.now();
    if (t - this.lastWarn < 10_000) return;
    this.lastWarn = t;
    this.logger.warn({ operation, err: (err as Error)?.message }, 'cache Redis call failed; serving without it');
  }
}
