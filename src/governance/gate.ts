/**
 * The counter store as governance uses it: the configured store (Redis or memory) plus an in-process fallback. While Redis
 * fails, `fail_open` serves from the fallback and `fail_closed` refuses with 503; either way the failure is logged (first
 * occurrence, then at most every 10 s, and on recovery) and reported by health().
 */
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import { MemoryCounterStore, type CounterAdjustment, type CounterCheck, type CounterStore, type ReserveResult } from '../store/counters.js';

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

export class CounterGate {
  readonly fallback: MemoryCounterStore;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  private lastLog = 0;

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
      if (!this.failure(err, 'reserve')) throw storeUnavailable();
      return { result: this.fallback.reserveSync(checks), store: this.fallback };
    }
  }

  /** Applies adjustments to the store a reservation was made in. Failures are logged, never thrown. */
  async adjust(store: CounterStore, adjustments: readonly CounterAdjustment[]): Promise<void> {
    try {
      await store.adjust(adjustments);
      if (store === this.primary) this.success();
    } catch (err) {
      this.failure(err, 'adjust');
    }
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
