/**
 * Window arithmetic and the counter checks for one request. Budgets use calendar windows in UTC (day; ISO week from Monday;
 * month; or total = never resets) because that is how budgets are read. Rate limits use a sliding window of SLICES slices:
 * the count is the sum of the current slice and the ones before it that still lie in the window, so every request stops
 * counting within one window of when it was made and a refusal's retry-after is never longer than the window.
 */
import { refuses, type CounterCheck } from '../store/counters.js';
import type { Budget } from './config.js';
import type { LimitLevel } from './registry.js';

export type Metric = 'budget' | 'tokens' | 'requests';
export type Period = Budget['period'];

const DAY = 86_400_000;
/** Budget buckets outlive their window so that late settlements still land in them. */
const BUDGET_GRACE_MS = 7 * DAY;

/** [start, end) of the calendar window containing `now`; end = Infinity for `total`. */
export function calendarWindow(period: Period, now: number): { start: number; end: number } {
  const d = new Date(now);
  switch (period) {
    case 'daily': {
      const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      return { start, end: start + DAY };
    }
    case 'weekly': {
      const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      const start = midnight - ((d.getUTCDay() + 6) % 7) * DAY;
      return { start, end: start + 7 * DAY };
    }
    case 'monthly':
      return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
    case 'total':
      return { start: 0, end: Infinity };
  }
}

export interface RateWindow {
  metric: 'requests' | 'tokens';
  unit: 'minute' | 'hour';
  sizeMs: number;
  limit: number;
}

/** The rate windows a level defines. */
export function rateWindows(level: LimitLevel): RateWindow[] {
  const r = level.rateLimits;
  if (r === undefined) return [];
  const out: RateWindow[] = [];
  if (r.requests_per_minute !== undefined) out.push({ metric: 'requests', unit: 'minute', sizeMs: 60_000, limit: r.requests_per_minute });
  if (r.requests_per_hour !== undefined) out.push({ metric: 'requests', unit: 'hour', sizeMs: 3_600_000, limit: r.requests_per_hour });
  if (r.tokens_per_minute !== undefined) out.push({ metric: 'tokens', unit: 'minute', sizeMs: 60_000, limit: r.tokens_per_minute });
  if (r.tokens_per_hour !== undefined) out.push({ metric: 'tokens', unit: 'hour', sizeMs: 3_600_000, limit: r.tokens_per_hour });
  return out;
}

/** Slices a rate window is cut into (10 s for a minute, 10 min for an hour). */
export const SLICES = 6;

/** One limit as it applies right now: what it reads, what it would add, and enough to explain a refusal. */
export interface PlannedLimit {
  metric: Metric;
  level: LimitLevel;
  check: CounterCheck;
  /** For budgets: the calendar window; for rates: the sliding window. */
  budget?: { period: Period; end: number };
  rate?: RateWindow & { elapsedMs: number };
}

export function budgetLimit(prefix: string, level: LimitLevel, budget: Budget, now: number, amountNanos: number): PlannedLimit {
  const w = calendarWindow(budget.period, now);
  const key = `${prefix}${level.scope}:usd:${budget.period}:${w.start}`;
  return {
    metric: 'budget',
    level,
    check: {
      keys: [key],
      weights: [1],
      limit: Math.round(budget.limit_usd * 1e9),
      amount: amountNanos,
      ttlMs: w.end === Infinity ? 0 : w.end - now + BUDGET_GRACE_MS,
    },
    budget: { period: budget.period, end: w.end },
  };
}

export function rateLimit(prefix: string, level: LimitLevel, win: RateWindow, now: number, amount: number): PlannedLimit {
  const sliceMs = win.sizeMs / SLICES;
  const slice = Math.floor(now / sliceMs);
  const elapsedMs = now - slice * sliceMs;
  const tag = win.metric === 'requests' ? 'req' : 'tok';
  const unit = win.unit === 'minute' ? 'm' : 'h';
  const keys: string[] = [];
  for (let i = 0; i < SLICES; i++) keys.push(`${prefix}${level.scope}:${tag}:${unit}:${slice - i}`);
  return {
    metric: win.metric,
    level,
    check: { keys, weights: keys.map(() => 1), limit: win.limit, amount, ttlMs: win.sizeMs + sliceMs + 1000 },
    rate: { ...win, elapsedMs },
  };
}

/** Every limit that applies to a request across its levels. */
export function planLimits(
  prefix: string,
  levels: readonly LimitLevel[],
  now: number,
  amounts: { costNanos: number; tokens: number },
): PlannedLimit[] {
  const out: PlannedLimit[] = [];
  for (const level of levels) {
    if (level.budget !== undefined) out.push(budgetLimit(prefix, level, level.budget, now, amounts.costNanos));
    for (const win of rateWindows(level)) {
      out.push(rateLimit(prefix, level, win, now, win.metric === 'requests' ? 1 : amounts.tokens));
    }
  }
  return out;
}

/**
 * Milliseconds until a refused check would pass, given its slice values (current first). The oldest slice leaves the window
 * at the next slice boundary, the next one a slice later, and so on, so the answer is at most the window. Undefined when the
 * request alone exceeds the limit (it can never pass).
 */
export function slidingRetryMs(values: readonly number[], amount: number, limit: number, sizeMs: number, elapsedMs: number): number | undefined {
  if (amount > limit) return undefined;
  const sliceMs = sizeMs / SLICES;
  let kept = 0;
  for (const v of values) kept += v;
  for (let dropped = 1; dropped <= values.length; dropped++) {
    kept -= values[values.length - dropped] ?? 0;
    if (!refuses(kept, amount, limit)) return sliceMs - elapsedMs + (dropped - 1) * sliceMs;
  }
  return sizeMs - elapsedMs;
}

export const usd = (nanos: number): string => `$${(nanos / 1e9).toFixed(nanos !== 0 && Math.abs(nanos) < 1e7 ? 4 : 2)}`;
