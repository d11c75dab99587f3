/**
 * The counter store as governance uses it: the configured store (Redis or memory) plus an in-process fallback. While Redis
 * fails, `fail_open` serves from the fallback and `fail_closed` refuses with 503; either way the failure is logged (first
 * occurrence, then at most every 10 s, and on recovery) and reported by health().
 *
 * What Redis did not receive is owed to it and sent once it answers again: what was reserved and settled on the fallback
 * during an outage (so the shared counters hold the outage's spend), settlements that failed before reaching it, and the
 * return of a reservation whose reply came too late (the request was served on the fallback or refused meanwhile).
 */
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import { MemoryCounterStore, UnansweredReserve, type CounterAdjustment, type CounterCheck, type CounterStore, type ReserveResult } from '../store/counters.js';
import { RedisUnavailableError } from '../store/redis-guard.js';
import { isErrorReply } from '../store/redis-module.js';

export type StoreErrorPolicy = 'fail_open' | 'fail_closed';

export interface GateHealth {
  /** False only when requests are being refused because the store is down (fail_closed). */
  ok: boolean;
  store: 'memory' | 'redis';
  /** `degraded`: Redis unreachable, serving from in-process counters. */
  state: 'healthy' | 'degraded' | 'refusing';
  last_error?: string;
  failing_since?: string;
}

export const storeUnavailable = (): GatewayError =>
  new GatewayError({
    status: 503,
    message: 'Governance counters are unavailable; the request was refused to keep budgets and rate limits enforced.',
    type: 'server_error',
    code: 'governance_unavailable',
    failure: 'gateway',
    headers: { 'retry-after': '5' },
  });

const LOG_EVERY_MS = 10_000;
/** Counters owed to the primary store at most; past it, changes to further counters are dropped (logged). */
const MAX_OWED = 100_000;
/** Counters sent to the primary store in one call when paying what is owed. */
const FLUSH_BATCH = 1000;

export class CounterGate {
  readonly fallback: MemoryCounterStore;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  private lastLog = 0;
  /** Amounts the primary store does not have yet, by counter (with the expiry to give a counter it creates). */
  private readonly owed = new Map<string, { amount: number; ttlMs: number }>();
  private flushing: Promise<void> | undefined;
  private lastDropLog = 0;

  constructor(
    readonly primary: CounterStore,
    public policy: StoreErrorPolicy,
    private readonly logger: Logger,
    now: () => number = Date.now,
  ) {
    this.fallback = primary instanceof MemoryCounterStore ? primary : new MemoryCounterStore(now);
  }

  /** Records a store failure; returns true when the caller may continue on the fallback. */
  failure(err: unknown, op: string): boolean {
    const now = Date.now();
    const message = err instanceof Error ? err.message : String(err);
    if (this.failingSince === undefined) this.failingSince = now;
    this.lastError = message;
    if (now - this.lastLog >= LOG_EVERY_MS) {
      this.lastLog = now;
      this.logger.error({ op, err: message, policy: this.policy }, 'governance store unavailable');
    }
    return this.policy === 'fail_open';
  }

  private success(): void {
    if (this.owed.size > 0) this.flush();
    if (this.failingSince === undefined) return;
    this.logger.warn({ downForMs: Date.now() - this.failingSince }, 'governance store recovered');
    this.failingSince = undefined;
    this.lastError = undefined;
    this.lastLog = 0;
  }

  /** Reserves on the primary store, or on the fallback while the primary fails and the policy is fail_open. */
  async reserve(checks: readonly CounterCheck[]): Promise<{ result: ReserveResult; store: CounterStore }> {
    if (this.primary === this.fallback) return { result: this.fallback.reserveSync(checks), store: this.fallback };
    try {
      const result = await this.primary.reserve(checks);
      this.success();
      return { result, store: this.primary };
    } catch (err) {
      // A reservation Redis makes after its reply was given up on is returned once that reply arrives.
      if (err instanceof UnansweredReserve) {
        void err.reserved.then((reserved) => {
          if (!reserved) return;
          this.owe(checks.map((c) => ({ key: c.keys[0], amount: -c.amount, ttlMs: c.ttlMs })));
          this.flush();
        });
      }
      if (!this.failure(err, 'reserve')) throw storeUnavailable();
      const result = this.fallback.reserveSync(checks);
      if (result.ok) this.owe(checks.map((c) => ({ key: c.keys[0], amount: c.amount, ttlMs: c.ttlMs })));
      return { result, store: this.fallback };
    }
  }

  /** Applies adjustments to the store a reservation was made in. Failures are logged, never thrown. */
  async adjust(store: CounterStore, adjustments: readonly CounterAdjustment[]): Promise<void> {
    if (store !== this.primary) this.owe(adjustments);
    try {
      await store.adjust(adjustments);
      if (store === this.primary) this.success();
    } catch (err) {
      this.failure(err, 'adjust');
      void this.unsent(err, adjustments);
    }
  }

  /** Resolves once what is owed to the primary store has been sent (or failed again). */
  async drain(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
  }

  /** Records amounts the primary store lacks (only when the fallback is a separate store). */
  private owe(adjustments: readonly CounterAdjustment[]): void {
    if (this.primary === this.fallback) return;
    for (const a of adjustments) {
      if (a.amount === 0) continue;
      const o = this.owed.get(a.key);
      if (o !== undefined) o.amount += a.amount;
      else if (this.owed.size < MAX_OWED) this.owed.set(a.key, { amount: a.amount, ttlMs: a.ttlMs });
      else if (Date.now() - this.lastDropLog >= LOG_EVERY_MS) {
        this.lastDropLog = Date.now();
        this.logger.error({ owed: MAX_OWED }, 'governance store: too many counters owed to it; changes to further counters are dropped');
      }
    }
  }

  /**
   * Sends what is owed to the primary store, one batch at a time (at most FLUSH_BATCH counters per script call, so Redis is
   * never held long); what fails to arrive stays owed.
   */
  private flush(): void {
    if (this.flushing !== undefined || this.owed.size === 0) return;
    const batch: CounterAdjustment[] = [];
    for (const [key, o] of this.owed) {
      if (batch.length === FLUSH_BATCH) break;
      this.owed.delete(key);
      if (o.amount !== 0) batch.push({ key, amount: o.amount, ttlMs: o.ttlMs });
    }
    this.flushing = this.primary.adjust(batch).then(
      () => true,
      (err: unknown) => {
        this.failure(err, 'flush');
        void this.unsent(err, batch);
        return false;
      },
    ).then((sent) => {
      this.flushing = undefined;
      if (sent) this.flush();
    });
  }

  /**
   * Adjustments the primary store failed to take are owed again — unless it answered with an error (retrying would not
   * help), or it may still apply them (sent, no reply in time): then they are owed only if the command failed after all.
   */
  private async unsent(err: unknown, adjustments: readonly CounterAdjustment[]): Promise<void> {
    if (isErrorReply(err)) return;
    const late = err instanceof RedisUnavailableError ? err.late : undefined;
    if (late !== undefined) {
      try {
        await late;
        return;
      } catch (e) {
        if (isErrorReply(e)) return;
      }
    }
    this.owe(adjustments);
  }

  /** Reads counters; falls back to the in-process values when the primary fails (reads are informational). */
  async read(keys: readonly string[]): Promise<number[]> {
    if (this.primary === this.fallback) return this.fallback.read(keys);
    try {
      const values = await this.primary.read(keys);
      this.success();
      return values;
    } catch (err) {
      this.failure(err, 'read');
      return this.fallback.read(keys);
    }
  }

  health(): GateHealth {
    const down = this.failingSince !== undefined;
    return {
      ok: !down || this.policy === 'fail_open',
      store: this.primary.kind,
      state: !down ? 'healthy' : this.policy === 'fail_open' ? 'degraded' : 'refusing',
      ...(down ? { last_error: this.lastError, failing_since: new Date(this.failingSince!).toISOString() } : {}),
    };
  }
}
