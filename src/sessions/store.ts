/**
 * Where sessions live: this process (bounded, least recently used first out) or Redis (shared by every instance, each
 * command bounded by the Redis guard). A store that cannot answer reads as "no session": routing never waits on it past
 * the guard's timeout and never fails because of it.
 */
import type { RedisClientType } from 'redis';
import { COMPLEXITY_BANDS, type ComplexityBand } from '../cascade/complexity.js';

export interface SessionState {
  /** "provider/model" that answered the session's last answered request. */
  target: string;
  /** Highest complexity band seen in the session. */
  tier: ComplexityBand;
  /** Requests seen in the session (this one excluded when read for routing). */
  turns: number;
}

export interface SessionStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<SessionState | undefined>;
  /** Stores the state and (re)starts its idle TTL. */
  put(key: string, state: SessionState, ttlMs: number): Promise<void>;
}

/** Parses a stored state, refusing anything malformed (a store shared with other software may hold anything). */
export function parseState(json: string | null | undefined): SessionState | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as Partial<SessionState>;
    if (typeof v.target !== 'string' || typeof v.turns !== 'number' || !(COMPLEXITY_BANDS as readonly unknown[]).includes(v.tier)) return undefined;
    return { target: v.target, tier: v.tier as ComplexityBand, turns: v.turns };
  } catch {
    return undefined;
  }
}

export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { state: SessionState; expires: number }>();

  constructor(private readonly maxEntries: () => number, private readonly now: () => number = Date.now) {}

  get(key: string): Promise<SessionState | undefined> {
    const e = this.entries.get(key);
    if (e === undefined) return Promise.resolve(undefined);
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return Promise.resolve(undefined);
    }
    return Promise.resolve({ ...e.state });
  }

  put(key: string, state: SessionState, ttlMs: number): Promise<void> {
    this.entries.delete(key); // re-inserted last: Map order is the least-recently-used order
    this.entries.set(key, { state: { ...state }, expires: this.now() + ttlMs });
    const max = this.maxEntries();
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= max) break;
      this.entries.delete(oldest);
    }
    return Promise.resolve();
  }

  get size(): number {
    return this.entries.size;
  }
}

export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis' as const;

  /** `redis` is the guarded client (every command bounded); `prefix` the deployment's key prefix. */
  constructor(private readonly redis: RedisClientType, private readonly prefix: string) {}

  private k(key: string): string {
    return `${this.prefix}session:${key}`;
  }

  async get(key: string): Promise<SessionState | undefined> {
    return parseState(await this.redis.get(this.k(key)));
  }

  async put(key: string, state: SessionState, ttlMs: number): Promise<void> {
    await this.redis.set(this.k(key), JSON.stringify(state), { PX: Math.max(1, Math.round(ttlMs)) });
  }
}
