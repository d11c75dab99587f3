/**
 * Windowed counters with an atomic, all-or-nothing check-and-add across several limits. Used for budgets and rate limits; the
 * windows themselves are computed by the caller, so the store only knows keys, weights, limits and amounts.
 *
 * A check reads a weighted sum of one or more bucket keys (one key for a fixed window; current + previous bucket for a sliding
 * window counter), refuses when `current + amount > limit` or `current >= limit`, and — only if every check passes — adds
 * `amount` to each check's first key, setting its expiry if the key has none.
 */

export interface CounterCheck {
  /** Bucket keys; the first one receives the amount. */
  keys: string[];
  /** One weight per key; the check compares `sum(value_i * weight_i) + amount` to `limit`. */
  weights: number[];
  /** Inclusive upper bound. */
  limit: number;
  /** Integer to add when every check passes. */
  amount: number;
  /** Expiry for the first key, set only if it has none; 0 = never expires. */
  ttlMs: number;
}

export type ReserveResult =
  | { ok: true }
  /** `index` of the first refusing check, its weighted current value and the raw values of its keys. */
  | { ok: false; index: number; current: number; values: number[] };

export interface CounterAdjustment {
  key: string;
  /** Integer, may be negative. */
  amount: number;
  ttlMs: number;
}

/**
 * A reserve the store did not answer in time, although it may still carry it out (its command was sent): `reserved` says,
 * once the store's reply arrives, whether it added the amounts (false when it refused, failed or never answers).
 */
export class UnansweredReserve extends Error {
  constructor(message: string, readonly reserved: Promise<boolean>) {
    super(message);
    this.name = 'UnansweredReserve';
  }
}

export interface CounterStore {
  readonly kind: 'memory' | 'redis';
  /** Atomically checks every limit and, if all pass, adds every amount. */
  reserve(checks: readonly CounterCheck[]): Promise<ReserveResult>;
  /** Adds (possibly negative) amounts; used to settle or release a reservation. */
  adjust(adjustments: readonly CounterAdjustment[]): Promise<void>;
  /** Current raw values of the given keys (0 when absent). */
  read(keys: readonly string[]): Promise<number[]>;
}

/** Weighted sum of bucket values. */
export function weighted(values: readonly number[], weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * (weights[i] ?? 1);
  return sum;
}

/** Whether a check refuses, given its weighted current value. Shared by both stores so they agree exactly. */
export function refuses(current: number, amount: number, limit: number): boolean {
  return current >= limit || current + amount > limit;
}

interface Slot {
  value: number;
  /** Epoch ms; 0 = never. */
  expiresAt: number;
}

/** In-process counters. Atomic because every operation is synchronous inside one event-loop turn. */
export class MemoryCounterStore implements CounterStore {
  readonly kind = 'memory' as const;
  private readonly slots = new Map<string, Slot>();
  private sweepAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private get(key: string, now: number): number {
    const slot = this.slots.get(key);
    if (slot === undefined) return 0;
    if (slot.expiresAt !== 0 && slot.expiresAt <= now) {
      this.slots.delete(key);
      return 0;
    }
    return slot.value;
  }

  private add(key: string, amount: number, ttlMs: number, now: number): void {
    const slot = this.slots.get(key);
    if (slot === undefined || (slot.expiresAt !== 0 && slot.expiresAt <= now)) {
      this.slots.set(key, { value: amount, expiresAt: ttlMs > 0 ? now + ttlMs : 0 });
    } else {
      slot.value += amount;
    }
  }

  /** Drops expired slots at most once a minute so idle keys do not accumulate. */
  private sweep(now: number): void {
    if (now < this.sweepAt) return;
    this.sweepAt = now + 60_000;
    for (const [key, slot] of this.slots) if (slot.expiresAt !== 0 && slot.expiresAt <= now) this.slots.delete(key);
  }

  reserveSync(checks: readonly CounterCheck[]): ReserveResult {
    const now = this.now();
    this.sweep(now);
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i];
      const values = c.keys.map((k) => this.get(k, now));
      const current = weighted(values, c.weights);
      if (refuses(current, c.amount, c.limit)) return { ok: false, index: i, current, values };
    }
    for (const c of checks) if (c.amount !== 0) this.add(c.keys[0], c.amount, c.ttlMs, now);
    return { ok: true };
  }

  reserve(checks: readonly CounterCheck[]): Promise<ReserveResult> {
    return Promise.resolve(this.reserveSync(checks));
  }

  adjustSync(adjustments: readonly CounterAdjustment[]): void {
    const now = this.now();
    for (const a of adjustments) if (a.amount !== 0) this.add(a.key, a.amount, a.ttlMs, now);
  }

  adjust(adjustments: readonly CounterAdjustment[]): Promise<void> {
    this.adjustSync(adjustments);
    return Promise.resolve();
  }

  read(keys: readonly string[]): Promise<number[]> {
    const now = this.now();
    return Promise.resolve(keys.map((k) => this.get(k, now)));
  }
}
