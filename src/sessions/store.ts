/**
 * Where sessions live: this process (bounded, kept fairly between virtual keys) or Redis (shared by every instance, each
 * command bounded by the Redis guard). A store that cannot answer reads as "no session": routing never waits on it past
 * the guard's timeout and never fails because of it.
 */
import type { RedisClientType } from 'redis';
import { COMPLEXITY_BANDS, type ComplexityBand } from '../cascade/complexity.js';
import { FairEviction, type Evictable } from '../store/fair-eviction.js';

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
  /** Stores the state and (re)starts its idle TTL; `owner` is the virtual key the session belongs to (the memory store's bounds are kept fairly between owners). */
  put(owner: string, key: string, state: SessionState, ttlMs: number): Promise<void>;
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

/** One session; its owner for eviction is the virtual key that made it. */
interface Held extends Evictable<string> {
  state: SessionState;
}

/**
 * In this process, bounded by `sessions.max_entries` and kept fairly between virtual keys (src/store/fair-eviction.ts):
 * expired sessions go first, then the least recently recorded session of the key holding the most, so one key opening
 * many sessions pushes out its own, never another key's that holds fewer.
 */
export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Held>();
  /** Its bound is read from the settings at every write. */
  private readonly fair = new FairEviction<string, Held>({ maxEntries: Infinity, maxBytes: Infinity });

  constructor(private readonly maxEntries: () => number, private readonly now: () => number = Date.now) {}

  get(key: string): Promise<SessionState | undefined> {
    const e = this.entries.get(key);
    if (e === undefined) return Promise.resolve(undefined);
    if (e.expiresAt <= this.now()) {
      this.drop(e);
      return Promise.resolve(undefined);
    }
    return Promise.resolve({ ...e.state });
  }

  put(owner: string, key: string, state: SessionState, ttlMs: number): Promise<void> {
    const now = this.now();
    const e = this.entries.get(key);
    if (e !== undefined && e.owner === owner) {
      e.state = { ...state };
      this.fair.renew(e, now + ttlMs); // now its owner's most recently used
    } else {
      if (e !== undefined) this.drop(e);
      const held: Held = { key, owner, state: { ...state }, expiresAt: now + ttlMs, bytes: 0, fairHolding: undefined, fairPos: -1 };
      this.entries.set(key, held);
      this.fair.add(held);
    }
    this.fair.setLimits(this.maxEntries());
    for (let x = this.fair.expired(now); x !== undefined; x = this.fair.expired(now)) this.drop(x);
    while (this.fair.over()) this.drop(this.fair.victim(now)!);
    return Promise.resolve();
  }

  get size(): number {
    return this.entries.size;
  }

  private drop(e: Held): void {
    this.entries.delete(e.key);
    this.fair.remove(e);
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

  async put(_owner: string, key: string, state: SessionState, ttlMs: number): Promise<void> {
    await this.redis.set(this.k(key), JSON.stringify(state), { PX: Math.max(1, Math.round(ttlMs)) });
  }
}
