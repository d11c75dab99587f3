/**
 * Stored responses, for GET /v1/responses/{id} and previous_response_id: each record is the Response object plus the
 * conversation it ends (input items and output, for the next turn). Records are keyed by tenant (the virtual key) and id, so
 * a response is never readable with another virtual key; each expires after responses.ttl_s. In memory the store is bounded
 * by count and bytes (when full, an expired record goes first, else the key holding the largest share loses its least recently
 * used); on Redis each record is one key with a TTL, every command bounded by the Redis guard.
 */
import type { RedisClientType } from 'redis';
import { FairEviction, type Evictable } from '../../store/fair-eviction.js';
import type { ResponsesConfig } from './config.js';

export interface StoredResponse {
  /** The Response object as the caller received it: the gateway's own, or a Responses upstream's passed through. */
  response: { readonly id: string };
  /**
   * The whole conversation up to and including this response's output (without instructions), as Responses input items: the
   * items as the caller sent them and the output items as they were answered.
   */
  conversation: unknown[];
}

export interface ResponseStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Stores a record; false when it is larger than responses.max_record_bytes, or in memory than max_bytes (not stored).
   * Rejects when the store fails.
   */
  put(tenant: string, record: StoredResponse): Promise<boolean>;
  /** The record, or undefined when absent, expired or another tenant's. Rejects when the store fails. */
  get(tenant: string, id: string): Promise<StoredResponse | undefined>;
  delete(tenant: string, id: string): Promise<boolean>;
}

type Settings = () => Pick<ResponsesConfig, 'ttl_s' | 'max_entries' | 'max_bytes' | 'max_record_bytes'>;

/** One stored record; its owner for eviction is the tenant (virtual key), its key the response id. */
interface Entry extends Evictable<string> {
  readonly json: string;
}

/**
 * In memory: records grouped by tenant (src/store/fair-eviction.ts keeps each tenant's records in use order). The bounds
 * (entries, bytes) are the whole store's; when a record takes it past either, an expired record goes first, else the
 * least recently used record of the tenant holding the largest share of either bound, until it fits — so one virtual key's
 * traffic pushes out its own records, never another key's that holds less.
 */
export class MemoryResponseStore implements ResponseStore {
  readonly kind = 'memory' as const;
  /** Its bounds are read from the settings at every write. */
  private readonly fair = new FairEviction<string, Entry>({ maxEntries: Infinity, maxBytes: Infinity });

  constructor(private readonly settings: Settings, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.fair.size;
  }

  private remove(tenant: string, id: string): boolean {
    const e = this.fair.entriesOf(tenant)?.get(id);
    return e !== undefined && this.fair.remove(e);
  }

  put(tenant: string, record: StoredResponse): Promise<boolean> {
    const s = this.settings();
    const json = JSON.stringify(record);
    const bytes = Buffer.byteLength(json);
    // A record the whole store cannot hold would only evict every other record and then itself.
    if (bytes > Math.min(s.max_record_bytes, s.max_bytes)) return Promise.resolve(false);
    const id = record.response.id;
    this.remove(tenant, id);
    const now = this.now();
    this.fair.add({ key: id, owner: tenant, json, bytes, expiresAt: now + s.ttl_s * 1000, fairHolding: undefined, fairPos: -1 });
    this.fair.setLimits(s.max_entries, s.max_bytes);
    // Expired records leave now rather than when read; then, past a bound, the victims the fair policy picks.
    for (let e = this.fair.expired(now); e !== undefined; e = this.fair.expired(now)) this.fair.remove(e);
    while (this.fair.over()) this.fair.remove(this.fair.victim(now)!);
    return Promise.resolve(true);
  }

  get(tenant: string, id: string): Promise<StoredResponse | undefined> {
    const e = this.fair.entriesOf(tenant)?.get(id);
    if (e === undefined) return Promise.resolve(undefined);
    if (e.expiresAt <= this.now()) {
      this.fair.remove(e);
      return Promise.resolve(undefined);
    }
    this.fair.touch(e);
    return Promise.resolve(JSON.parse(e.json) as StoredResponse);
  }

  delete(tenant: string, id: string): Promise<boolean> {
    return Promise.resolve(this.remove(tenant, id));
  }
}

export class RedisResponseStore implements ResponseStore {
  readonly kind = 'redis' as const;

  /** `client` is the guarded shared connection (src/store/redis-guard.ts). */
  constructor(private readonly client: RedisClientType, private readonly prefix: string, private readonly settings: Settings) {}

  // The tenant is hex-encoded so no virtual key id can reach into another tenant's key space.
  private key(tenant: string, id: string): string {
    return `${this.prefix}resp:${Buffer.from(tenant).toString('hex')}:${id}`;
  }

  async put(tenant: string, record: StoredResponse): Promise<boolean> {
    const s = this.settings();
    const json = JSON.stringify(record);
    if (Buffer.byteLength(json) > s.max_record_bytes) return false;
    await this.client.set(this.key(tenant, record.response.id), json, { PX: s.ttl_s * 1000 });
    return true;
  }

  async get(tenant: string, id: string): Promise<StoredResponse | undefined> {
    const json = await this.client.get(this.key(tenant, id));
    return typeof json === 'string' ? (JSON.parse(json) as StoredResponse) : undefined;
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    return (await this.client.del(this.key(tenant, id))) > 0;
  }
}
