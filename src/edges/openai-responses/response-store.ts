/**
 * Stored responses, for GET /v1/responses/{id} and previous_response_id: each record is the Response object plus the
 * conversation it ends (input items and output, for the next turn). Records are keyed by tenant (the virtual key) and id, so
 * a response is never readable with another virtual key; each expires after responses.ttl_s. In memory the store is bounded
 * by count and bytes (oldest first out); on Redis each record is one key with a TTL, every command bounded by the Redis guard.
 */
import type { RedisClientType } from 'redis';
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
  /** Stores a record; false when it is larger than responses.max_record_bytes (not stored). Rejects when the store fails. */
  put(tenant: string, record: StoredResponse): Promise<boolean>;
  /** The record, or undefined when absent, expired or another tenant's. Rejects when the store fails. */
  get(tenant: string, id: string): Promise<StoredResponse | undefined>;
  delete(tenant: string, id: string): Promise<boolean>;
}

type Settings = () => Pick<ResponsesConfig, 'ttl_s' | 'max_entries' | 'max_bytes' | 'max_record_bytes'>;

interface Entry {
  json: string;
  bytes: number;
  expiresAt: number;
}

const keyOf = (tenant: string, id: string): string => `${tenant}\u0000${id}`;

export class MemoryResponseStore implements ResponseStore {
  readonly kind = 'memory' as const;
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly settings: Settings, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.entries.size;
  }

  private remove(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.bytes -= e.bytes;
    return true;
  }

  put(tenant: string, record: StoredResponse): Promise<boolean> {
    const s = this.settings();
    const json = JSON.stringify(record);
    const bytes = Buffer.byteLength(json);
    if (bytes > s.max_record_bytes) return Promise.resolve(false);
    const key = keyOf(tenant, record.response.id);
    this.remove(key);
    this.entries.set(key, { json, bytes, expiresAt: this.now() + s.ttl_s * 1000 });
    this.bytes += bytes;
    const now = this.now();
    for (const [k, e] of this.entries) {
      if (this.entries.size <= s.max_entries && this.bytes <= s.max_bytes && e.expiresAt > now) break;
      this.remove(k);
    }
    return Promise.resolve(true);
  }

  get(tenant: string, id: string): Promise<StoredResponse | undefined> {
    const key = keyOf(tenant, id);
    const e = this.entries.get(key);
    if (e === undefined) return Promise.resolve(undefined);
    if (e.expiresAt <= this.now()) {
      this.remove(key);
      return Promise.resolve(undefined);
    }
    return Promise.resolve(JSON.parse(e.json) as StoredResponse);
  }

  delete(tenant: string, id: string): Promise<boolean> {
    return Promise.resolve(this.remove(keyOf(tenant, id)));
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
