/**
 * The one Redis connection every feature shares, guarded: every command is bounded by redis.command_timeout_ms, and a
 * breaker around Redis opens after consecutive timeouts or connection errors, so while Redis is down or hung each call
 * fails at once instead of making requests wait. A probe after the cooldown closes it again. Each feature decides what a
 * failed call means (cache: a miss; budgets and rate limits: governance.on_store_error; rules and entities: the last set
 * read); see docs/operations.md. Redis error replies (NOSCRIPT, WRONGTYPE, ...) are answers, not outages.
 *
 * The guard is a proxy over the node-redis client, so the stores use the client's own API unchanged; lifecycle methods
 * (connect, duplicate for subscriptions, event listeners, close) pass straight through.
 */
import type { RedisClientType } from 'redis';
import { Circuit, type CircuitState } from '../providers/circuit.js';
import { isErrorReply } from './redis-module.js';

export interface RedisGuardSettings {
  /** Longest a command may take before it fails (ms). */
  commandTimeoutMs: number;
  /** Consecutive timeouts or connection errors that open the breaker. */
  failures: number;
  /** How long the breaker stays open before one probe is let through (ms). */
  cooldownMs: number;
}

export class RedisUnavailableError extends Error {
  /**
   * Set when the command was sent but its reply did not come in time: Redis may still carry it out. Settles with the
   * command's own outcome, for a caller that must know whether it took effect (a counter that must be given back).
   */
  readonly late?: Promise<unknown>;

  constructor(message: string, late?: Promise<unknown>) {
    super(message);
    this.name = 'RedisUnavailableError';
    if (late !== undefined) this.late = late;
  }
}

export interface RedisGuardHealth {
  /** `degraded`: connected, but the breaker is open (Redis slow or hung); `down`: not connected. */
  state: 'connected' | 'degraded' | 'down';
  breaker: CircuitState;
  last_error?: string;
}

/** Methods that are not commands: called straight on the client. */
const PASS_THROUGH = new Set([
  'connect', 'quit', 'QUIT', 'close', 'disconnect', 'destroy', 'duplicate', 'on', 'off', 'once', 'addListener', 'removeListener',
  'removeAllListeners', 'emit', 'listeners', 'listenerCount', 'ref', 'unref', 'withCommandOptions', 'withTypeMapping',
  'withAbortSignal', 'asap', 'legacy', 'subscribe', 'unsubscribe', 'SUBSCRIBE', 'UNSUBSCRIBE', 'pSubscribe', 'pUnsubscribe',
]);
const MULTI = new Set(['multi', 'MULTI']);
const EXEC = new Set(['exec', 'EXEC', 'execAsPipeline']);

export class RedisGuard {
  /** The guarded client: the same API as the raw one. */
  readonly client: RedisClientType;
  private readonly breaker: Circuit;
  private lastError: string | undefined;

  constructor(private readonly raw: RedisClientType, private settings: RedisGuardSettings) {
    this.breaker = new Circuit({
      consecutive_failures: settings.failures, error_rate: 1, min_requests: Number.MAX_SAFE_INTEGER, cooldown_ms: settings.cooldownMs, half_open_probes: 1,
    });
    this.client = this.proxy(raw) as RedisClientType;
  }

  /** Runs one command under the breaker and the timeout. */
  run<T>(command: () => Promise<T>): Promise<T> {
    const now = Date.now();
    if (!this.breaker.canPass(now)) return Promise.reject(new RedisUnavailableError(`Redis is unavailable (breaker open: ${this.lastError ?? 'failing'})`));
    this.breaker.onStart();
    let timer: NodeJS.Timeout | undefined;
    let pending: Promise<T>;
    try {
      pending = command();
    } catch (err) {
      this.failed(err);
      return Promise.reject(err);
    }
    pending.catch(() => undefined); // a late rejection after the timeout is already accounted for
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisUnavailableError(`Redis command timed out after ${this.settings.commandTimeoutMs} ms`, pending)), this.settings.commandTimeoutMs);
    });
    return Promise.race([pending, timeout]).then(
      (value) => {
        clearTimeout(timer);
        this.breaker.onSuccess();
        return value;
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (isErrorReply(err)) this.breaker.onSuccess(); // Redis answered: it is up
        else this.failed(err);
        throw err;
      },
    );
  }

  private failed(err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err);
    this.breaker.onFailure(Date.now(), 0, 0);
  }

  health(): RedisGuardHealth {
    const breaker = this.breaker.state;
    const state = !this.raw.isReady ? 'down' : breaker === 'closed' ? 'connected' : 'degraded';
    return { state, breaker, ...(state !== 'connected' && this.lastError !== undefined ? { last_error: this.lastError } : {}) };
  }

  private proxy(target: object): object {
    return new Proxy(target, {
      get: (obj, prop, _receiver) => {
        const value: unknown = Reflect.get(obj, prop, obj);
        if (typeof value !== 'function' || typeof prop !== 'string' || PASS_THROUGH.has(prop)) {
          return typeof value === 'function' ? value.bind(obj) : value;
        }
        if (MULTI.has(prop)) return (...args: unknown[]) => this.proxyMulti((value as (...a: unknown[]) => object).apply(obj, args));
        return (...args: unknown[]) => this.run(() => (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args));
      },
    });
  }

  /** A MULTI builder: chained calls stay on it; only exec goes through the guard. */
  private proxyMulti(multi: object): object {
    const handler: ProxyHandler<object> = {
      get: (obj, prop) => {
        const value: unknown = Reflect.get(obj, prop, obj);
        if (typeof value !== 'function') return value;
        if (typeof prop === 'string' && EXEC.has(prop)) return (...args: unknown[]) => this.run(() => (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args));
        return (...args: unknown[]) => {
          const r = (value as (...a: unknown[]) => unknown).apply(obj, args);
          return r === obj ? proxied : r;
        };
      },
    };
    const proxied = new Proxy(multi, handler);
    return proxied;
  }
}
