/**
 * Single-flight: concurrent identical misses coalesce into one upstream call. The first miss for a key leads; the others
 * wait (bounded) for the leader's outcome. A leader that fails, or whose reply cannot be shared, settles with undefined
 * and every follower goes upstream itself.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, { promise: Promise<T | undefined>; settle: (v: T | undefined) => void }>();

  get inFlight(): number { return this.flights.size; }

  /** Becomes the leader for `key` when nobody leads it yet; returns false when a flight is already under way. */
  lead(key: string): boolean {
    if (this.flights.has(key)) return false;
    let settle!: (v: T | undefined) => void;
    const promise = new Promise<T | undefined>((resolve) => { settle = resolve; });
    this.flights.set(key, { promise, settle });
    return true;
  }

  /** The leader's outcome for `key`, undefined when there is no flight, it failed, or `waitMs` or `signal` ran out first. */
  follow(key: string, waitMs: number, signal?: AbortSignal): Promise<T | undefined> | undefined {
    const f = this.flights.get(key);
    if (f === undefined) return undefined;
    return new Promise<T | undefined>((resolve) => {
      const done = (v: T | undefined): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onAbort = (): void => done(undefined);
      const timer = setTimeout(done, waitMs, undefined);
      timer.unref?.();
      signal?.addEventListener('abort', onAbort, { once: true });
      f.promise.then(done, () => done(undefined));
    });
  }

  /** Ends the flight for `key`, handing `value` (or undefined: go upstream yourselves) to its followers. */
  settle(key: string, value: T | undefined): void {
    const f = this.flights.get(key);
    if (f === undefined) return;
    this.flights.delete(key);
    f.settle(value);
  }
}
