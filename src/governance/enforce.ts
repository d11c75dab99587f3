/**
 * Budgets and rate limits for one request: check-and-reserve before the upstream call (atomic across every level and every
 * instance), settle on real usage afterwards, release on failure. Also the read side: capacity percentages and usage reports.
 */
import { GatewayError } from '../errors.js';
import type { Target } from '../pipeline/context.js';
import type { Usage } from '../providers/types.js';
import type { CounterAdjustment, CounterStore } from '../store/counters.js';
import { weighted } from '../store/counters.js';
import type { CounterGate } from './gate.js';
import { planLimits, slidingRetryMs, usd, type PlannedLimit } from './limits.js';
import type { Pricing } from './pricing.js';
import type { LimitLevel } from './registry.js';

export interface Reservation {
  readonly store: CounterStore;
  readonly budgetKeys: ReadonlyArray<{ key: string; ttlMs: number }>;
  readonly tokenKeys: ReadonlyArray<{ key: string; ttlMs: number }>;
  readonly reservedNanos: number;
  readonly reservedTokens: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** The target priced for the estimate. */
  readonly target: Target;
  done: boolean;
}

/** Highest share used across the levels that apply, in percent (0-100, may exceed 100 after an overrun). */
export interface Capacity {
  budget_used: number;
  tokens_used: number;
  requests_used: number;
}

export interface EnforcerOptions {
  prefix: string;
  budgetStatus: 402 | 429;
  now: () => number;
}

export interface AdmitInput {
  levels: readonly LimitLevel[];
  target: Target;
  promptTokens: number;
  completionTokens: number;
  /** The cost to reserve, when more than `target`'s price of the tokens (a dearer fallback, a cascade's tiers). */
  costNanos?: number;
  /** The tokens to reserve, when more than the prompt and completion once (a cascade's tiers). */
  tokens?: number;
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

export class Enforcer {
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly gate: CounterGate, public pricing: Pricing, public opts: EnforcerOptions) {}

  /** Checks every limit and reserves the estimate; throws the refusal as a GatewayError. */
  async admit(input: AdmitInput): Promise<Reservation> {
    const now = this.opts.now();
    const tokens = input.tokens ?? input.promptTokens + input.completionTokens;
    const costNanos = input.costNanos ?? this.pricing.costNanos(input.target.provider, input.target.model, input.promptTokens, input.completionTokens);
    const plan = planLimits(this.opts.prefix, input.levels, now, { costNanos, tokens });
    const { result, store } = await this.gate.reserve(plan.map((p) => p.check));
    if (!result.ok) throw this.refusal(plan[result.index], result.current, result.values, now);
    const budgetKeys: { key: string; ttlMs: number }[] = [];
    const tokenKeys: { key: string; ttlMs: number }[] = [];
    for (const p of plan) {
      if (p.metric === 'budget') budgetKeys.push({ key: p.check.keys[0], ttlMs: p.check.ttlMs });
      else if (p.metric === 'tokens') tokenKeys.push({ key: p.check.keys[0], ttlMs: p.check.ttlMs });
    }
    return {
      store, budgetKeys, tokenKeys, reservedNanos: costNanos, reservedTokens: tokens,
      promptTokens: input.promptTokens, completionTokens: input.completionTokens, target: input.target, done: false,
    };
  }

  private refusal(p: PlannedLimit, current: number, values: number[], now: number): GatewayError {
    const who = p.level.label;
    if (p.metric === 'budget') {
      const b = p.budget!;
      const resets = b.end === Infinity ? 'It does not reset.' : `It resets at ${new Date(b.end).toISOString()}.`;
      const headers: Record<string, string> = {};
      if (this.opts.budgetStatus === 429 && b.end !== Infinity) headers['retry-after'] = String(seconds(b.end - now));
      return new GatewayError({
        status: this.opts.budgetStatus,
        type: 'insufficient_quota',
        code: 'budget_exceeded',
        failure: 'policy',
        headers,
        message: `Budget exceeded for ${who}: ${b.period} limit ${usd(p.check.limit)}, used ${usd(current)}, ` +
          `this request needs up to ${usd(p.check.amount)}. ${resets}`,
      });
    }
    const r = p.rate!;
    const what = r.metric === 'requests' ? 'requests' : 'tokens';
    const retry = slidingRetryMs(values, p.check.amount, p.check.limit, r.sizeMs, r.elapsedMs);
    const need = r.metric === 'tokens' ? ` This request needs about ${p.check.amount} tokens.` : '';
    return new GatewayError({
      status: 429,
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
      failure: 'policy',
      headers: retry === undefined ? {} : { 'retry-after': String(seconds(retry)) },
      retryAfterS: retry === undefined ? undefined : seconds(retry),
      message: retry === undefined
        ? `Request too large for ${who}: limit ${p.check.limit} ${what} per ${r.unit}.${need}`
        : `Rate limit exceeded for ${who}: ${p.check.limit} ${what} per ${r.unit}, used ${Math.ceil(current)}.${need} ` +
          `Retry after ${seconds(retry)} s.`,
    });
  }

  /** Replaces the reservation with the real cost and tokens of the target that answered. Idempotent. */
  settle(res: Reservation, answered: Target, usage: Usage): Promise<void> {
    return this.settleParts(res, [{ target: answered, usage }]);
  }

  /** Settles a request that used several targets (cascade tiers, judge calls), each priced at its own model. Idempotent. */
  async settleParts(res: Reservation, parts: ReadonlyArray<{ target: Target; usage: Usage }>): Promise<void> {
    if (res.done) return;
    res.done = true;
    let actualNanos = 0;
    let actualTokens = 0;
    for (const { target, usage } of parts) {
      actualNanos += this.pricing.usageNanos(target.provider, target.model, usage);
      actualTokens += usage.total_tokens > 0 ? usage.total_tokens : usage.prompt_tokens + usage.completion_tokens;
    }
    await this.apply(res, actualNanos - res.reservedNanos, actualTokens - res.reservedTokens);
  }

  /** Returns the reservation (the request produced nothing billable). The request still counts against request limits. */
  async release(res: Reservation): Promise<void> {
    if (res.done) return;
    res.done = true;
    await this.apply(res, -res.reservedNanos, -res.reservedTokens);
  }

  private async apply(res: Reservation, deltaNanos: number, deltaTokens: number): Promise<void> {
    const adjustments: CounterAdjustment[] = [];
    if (deltaNanos !== 0) for (const b of res.budgetKeys) adjustments.push({ key: b.key, amount: deltaNanos, ttlMs: b.ttlMs });
    if (deltaTokens !== 0) for (const t of res.tokenKeys) adjustments.push({ key: t.key, amount: deltaTokens, ttlMs: t.ttlMs });
    if (adjustments.length === 0) return;
    const p = this.gate.adjust(res.store, adjustments);
    this.inflight.add(p);
    try {
      await p;
    } finally {
      this.inflight.delete(p);
    }
  }

  /** Resolves once every settlement and release started so far has reached the store, and what was owed to it was sent. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
    await this.gate.drain();
  }

  /** Current weighted value of every limit of the given levels, in plan order. */
  async current(levels: readonly LimitLevel[]): Promise<{ plan: PlannedLimit[]; values: number[] }> {
    const plan = planLimits(this.opts.prefix, levels, this.opts.now(), { costNanos: 0, tokens: 0 });
    const keys = plan.flatMap((p) => p.check.keys);
    const raw = await this.gate.read(keys);
    const values: number[] = [];
    let i = 0;
    for (const p of plan) {
      const v = weighted(raw.slice(i, i + p.check.keys.length), p.check.weights);
      // A counter holding no integer reads as its whole limit, as the check itself reads it (src/store/redis-counters.ts).
      values.push(Number.isFinite(v) ? v : p.check.limit);
      i += p.check.keys.length;
    }
    return { plan, values };
  }

  async capacity(levels: readonly LimitLevel[]): Promise<Capacity> {
    const out: Capacity = { budget_used: 0, tokens_used: 0, requests_used: 0 };
    const { plan, values } = await this.current(levels);
    plan.forEach((p, i) => {
      const pct = p.check.limit > 0 ? (values[i] / p.check.limit) * 100 : 100;
      const field = p.metric === 'budget' ? 'budget_used' : p.metric === 'tokens' ? 'tokens_used' : 'requests_used';
      if (pct > out[field]) out[field] = Math.round(pct * 100) / 100;
    });
    return out;
  }
}
