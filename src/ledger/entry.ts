/**
 * One request's line in the ledger: the dimensions it is filed under and its amounts (integer nano-dollars and token counts),
 * priced by a pure function. See docs/governance.md "Spend and savings" for the counterfactual.
 */
import type { Target } from '../pipeline/context.js';
import type { Usage } from '../providers/types.js';
import type { Pricing } from '../governance/pricing.js';

/** What a ledger row is keyed by, in this order. An empty string means none (anonymous caller, no rule, no intent, ...). */
export const DIMENSIONS = ['key', 'team', 'customer', 'provider', 'model', 'rule', 'intent', 'cache'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** The amounts a row adds up, in this order; money in integer nano-dollars (1e-9 USD). */
export const AMOUNTS = [
  'requests', 'cost', 'baseline', 'saved_routing', 'saved_cache', 'prompt_tokens', 'completion_tokens', 'cache_hits', 'moved', 'unpriced',
] as const;
export type Amount = (typeof AMOUNTS)[number];
export const A = Object.fromEntries(AMOUNTS.map((a, i) => [a, i])) as { readonly [K in Amount]: number };

export interface LedgerEntry {
  /** When the request settled (ms since the epoch). */
  at: number;
  /** One value per DIMENSIONS entry. */
  dims: string[];
  /** One value per AMOUNTS entry. */
  amounts: number[];
}

export interface PricedRequest {
  /** The counterfactual target: what the caller asked for, or the alias's baseline. */
  baseline: Target;
  /** The target that answered; for a cache hit, the one the route chose (what would have answered). */
  answered: Target;
  /** What was paid for, each at its own model's price (several for a cascade: every tier and judge call). Empty for a hit. */
  parts: ReadonlyArray<{ target: Target; usage: Usage }>;
  /** Usage of the delivered answer (for a hit, the cached reply's). */
  usage: Usage;
  hit: boolean;
}

const sameModel = (a: Target, b: Target): boolean => a.model === b.model;

/**
 * The amounts of one request:
 *  - cost: what its parts cost (0 for a cache hit);
 *  - baseline: the delivered answer's usage priced at the baseline model;
 *  - saved_cache: for a hit, the answer's usage priced at the routed model (what the hit avoided);
 *  - saved_routing: baseline − (cost + saved_cache), negative when routing chose a dearer model or a cascade escalated.
 * baseline − cost = saved_routing + saved_cache.
 */
export function priceRequest(pricing: Pricing, r: PricedRequest): number[] {
  const amounts = new Array<number>(AMOUNTS.length).fill(0);
  let unpriced = !pricing.priceOf(r.baseline.provider, r.baseline.model).known;
  const baseline = pricing.usageNanos(r.baseline.provider, r.baseline.model, r.usage);
  if (r.hit) {
    unpriced ||= !pricing.priceOf(r.answered.provider, r.answered.model).known;
    const avoided = pricing.usageNanos(r.answered.provider, r.answered.model, r.usage);
    amounts[A.saved_cache] = avoided;
    amounts[A.saved_routing] = baseline - avoided;
    amounts[A.cache_hits] = 1;
  } else {
    let cost = 0;
    for (const p of r.parts) {
      unpriced ||= !pricing.priceOf(p.target.provider, p.target.model).known;
      cost += pricing.usageNanos(p.target.provider, p.target.model, p.usage);
      amounts[A.prompt_tokens] += p.usage.prompt_tokens;
      amounts[A.completion_tokens] += p.usage.completion_tokens;
    }
    amounts[A.cost] = cost;
    amounts[A.saved_routing] = baseline - cost;
  }
  amounts[A.requests] = 1;
  amounts[A.baseline] = baseline;
  amounts[A.moved] = sameModel(r.answered, r.baseline) ? 0 : 1;
  amounts[A.unpriced] = unpriced ? 1 : 0;
  return amounts;
}
