/**
 * Admission at the door: at most `server.max_in_flight` proxied requests are served at once (from authentication to the
 * reply's last byte), shared fairly between virtual keys. Below the bound every request is taken. At the bound a request
 * is still taken when its key holds less than an equal share of the bound among the keys with requests in flight (its own
 * counted), and refused at once otherwise — so a key flooding the gateway is refused before any other key is, and a key
 * that has little in flight always gets in. However many keys take their share, the total never exceeds twice the bound.
 * That refusal is an `overloaded` error: 503 with Retry-After (529 overloaded_error on the Anthropic edge), which the
 * official SDKs retry. A key, team or customer may also set its own bound (`rate_limits.max_parallel_requests`): past it,
 * a 429 naming the level. Nothing queues here: a request is taken or refused in the turn it is authenticated.
 */
import { GatewayError } from '../errors.js';
import type { ParallelLimit } from '../governance/registry.js';

export class InFlight {
  private total = 0;
  /** Requests in flight per key ('' for anonymous callers); a key leaves the map when it has none. */
  private readonly byKey = new Map<string, number>();
  /** Requests in flight per level that bounds them (key, team, customer scope); a level leaves the map when it has none. */
  private readonly byLevel = new Map<string, number>();

  constructor(private readonly bound: () => number) {}

  /** The bound now (server.max_in_flight; a reload may change it). */
  get max(): number {
    return this.bound();
  }

  /** Requests being served now. */
  get count(): number {
    return this.total;
  }

  /**
   * Takes a place for a request of `key` under its levels' own bounds, or returns the refusal: a level at its bound, or
   * the gateway at its bound with `key` holding its share. `leave` must get the same key and limits.
   */
  enter(key: string, limits: readonly ParallelLimit[]): GatewayError | undefined {
    for (const l of limits) if ((this.byLevel.get(l.scope) ?? 0) >= l.max) return parallelExceeded(l);
    const max = this.bound();
    const mine = this.byKey.get(key) ?? 0;
    if (this.total >= max) {
      const keys = this.byKey.size + (mine === 0 ? 1 : 0);
      if (this.total >= 2 * max || mine >= max / keys) return overloaded(max);
    }
    this.total++;
    this.byKey.set(key, mine + 1);
    for (const l of limits) this.byLevel.set(l.scope, (this.byLevel.get(l.scope) ?? 0) + 1);
    return undefined;
  }

  /** Gives back the place a request of `key` took. */
  leave(key: string, limits: readonly ParallelLimit[]): void {
    if (!drop(this.byKey, key)) return;
    this.total--;
    for (const l of limits) drop(this.byLevel, l.scope);
  }
}

/** One less under `k`; false when it had none. */
function drop(counts: Map<string, number>, k: string): boolean {
  const n = counts.get(k);
  if (n === undefined) return false;
  if (n <= 1) counts.delete(k);
  else counts.set(k, n - 1);
  return true;
}

/** The refusal of a request the gateway has no room for. */
export const overloaded = (max: number): GatewayError => new GatewayError({
  status: 503,
  message: `The gateway is serving its limit of ${max} requests at once and this key holds its share of them; retry shortly.`,
  type: 'server_error',
  code: 'gateway_overloaded',
  failure: 'gateway',
  headers: { 'retry-after': '1' },
  retryAfterS: 1,
});

/** The refusal of a request over its key's, team's or customer's own bound on requests in flight. */
const parallelExceeded = (l: ParallelLimit): GatewayError => new GatewayError({
  status: 429,
  message: `Too many requests in flight for ${l.label}: limit ${l.max} at once. Retry when one has finished.`,
  type: 'rate_limit_error',
  code: 'parallel_requests_exceeded',
  failure: 'policy',
  headers: { 'retry-after': '1' },
  retryAfterS: 1,
});
