/**
 * Admission at the door: at most `server.max_in_flight` proxied requests are served at once (from authentication to the
 * reply's last byte), shared fairly between virtual keys. Below the bound every request is taken. At the bound a request
 * is still taken when its key holds less than an equal share of the bound among the keys with requests in flight (its own
 * counted), and refused at once otherwise — so a key flooding the gateway is refused before any other key is, and a key
 * that has little in flight always gets in. However many keys take their share, the total never exceeds twice the bound.
 * A refusal is an `overloaded` error: 503 with Retry-After (529 overloaded_error on the Anthropic edge), which the
 * official SDKs retry. Nothing queues here: a request is taken or refused in the turn it is authenticated.
 */
import { GatewayError } from '../errors.js';

export class InFlight {
  private total = 0;
  /** Requests in flight per key ('' for anonymous callers); a key leaves the map when it has none. */
  private readonly byKey = new Map<string, number>();

  constructor(private readonly bound: () => number) {}

  /** The bound now (server.max_in_flight; a reload may change it). */
  get max(): number {
    return this.bound();
  }

  /** Requests being served now. */
  get count(): number {
    return this.total;
  }

  /** Takes a place for a request of `key`, or refuses it (false) when the bound is reached and `key` holds its share. */
  enter(key: string): boolean {
    const max = this.bound();
    const mine = this.byKey.get(key) ?? 0;
    if (this.total >= max) {
      const keys = this.byKey.size + (mine === 0 ? 1 : 0);
      if (this.total >= 2 * max || mine >= max / keys) return false;
    }
    this.total++;
    this.byKey.set(key, mine + 1);
    return true;
  }

  /** Gives back the place a request of `key` took. */
  leave(key: string): void {
    const mine = this.byKey.get(key);
    if (mine === undefined) return;
    this.total--;
    if (mine <= 1) this.byKey.delete(key);
    else this.byKey.set(key, mine - 1);
  }
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
