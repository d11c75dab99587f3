/**
 * Single-flight: concurrent identical misses coalesce into one upstream call. The first miss for a key leads; the others
 * wait (bounded) for the leader's outcome. A leader that fails, or whose reply cannot be shared, settles with undefined
 * and every follower goes upstream itself. A follower whose wait ends first (its time, or its client gone) leaves the
 * flight at once: a long leader keeps nothing of the followers that gave up on it.
 */
import type { AbortSource } from '../pipeline/client-abort.js';

type Waiter<T> = (v: T | undefined) => void;

export class SingleFlight<T> {
  private readonly flights = new Map<string, Set<Waiter<T>>>();

  get inFlight(): number { return this.flights.size; }

  /** Becomes the leader for `key` when nobody leads it yet; returns false when a flight is already under way. */
  lead(key: string): boolean {
    if (this.flights.has(key)) return false;
    this.flights.set(key, new Set());
    return true;
  }

  /** Followers waiting on `key`'s flight now (0 when there is none). */
  waiting(key: string): number { return this.flights.get(key)?.size ?? 0; }

  /**
   * The leader's outcome for `key`, undefined when there is no flight, it failed, or `waitMs` or `signal` ran out first.
   * `signal` is only listened to (a request's ClientAbort will do: no AbortSignal is made for a miss that follows nobody).
   */
  follow(key: string, waitMs: number, signal?: AbortSource): Promise<T | undefined> | undefined {
    const waiters = this.flights.get(key);
    if (waiters === undefined) return undefined;
    if (signal?.aborted === true) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve) => {
      const done = (v: T | undefined): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        waiters.delete(done);
        resolve(v);
      };
      const onAbort = { handleEvent: (): void => done(undefined) };
      const timer = setTimeout(done, waitMs, undefined);
      timer.unref?.();
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.add(done);
    });
  }

  /** Ends the flight for `key`, handing `value` (or undefined: go upstream yourselves) to its followers. */
  settle(key: string, value: T | undefined): void {
    const waiters = this.flights.get(key);
    if (waiters === undefined) return;
    this.flights.delete(key);
    for (const done of [...waiters]) done(value);
  }
}
