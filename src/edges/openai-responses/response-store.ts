/**
 * Stored responses, for GET /v1/responses/{id} and previous_response_id: each record is the Response object plus the
 * conversation it ends (input items and output, for the next turn). Records are keyed by tenant (the virtual key) and id, so
 * a response is never readable with another virtual key; each expires after responses.ttl_s. In memory the store is bounded
 * by count and bytes (when full, the key holding the largest share loses its oldest); on Redis each record is one key with a TTL, every command bounded by the Redis guard.
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

/** One tenant's records; insertion order is age order (the first entry is the oldest). */
interface Holding {
  readonly entries: Map<string, Entry>;
  bytes: number;
}

/**
 * In memory: records grouped by tenant. The bounds (entries, bytes) are the whole store's; when a record takes it past
 * either, a tenant whose oldest record has expired gives it up, else the tenant holding the largest share gives up its
 * oldest, until it fits — so one virtual key's traffic pushes out its own records, never another key's that holds less.
 */
export class MemoryResponseStore implements ResponseStore {
  readonly kind = 'memory' as const;
  private readonly tenants = new Map<string, Holding>();
  private count = 0;
  private bytes = 0;

  constructor(private readonly settings: Settings, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.count;
  }

  private remove(tenant: string, id: string): boolean {
    const h = this.tenants.get(tenant);
    const e = h?.entries.get(id);
    if (h === undefined || e === undefined) return false;
    h.entries.delete(id);
    h.bytes -= e.bytes;
    this.count--;
    this.bytes -= e.bytes;
    if (h.entries.size === 0) this.tenants.delete(tenant);
    return true;
  }

  /** The tenant to give up its oldest record: one whose oldest has expired, else the one holding the largest share of either bound. */
  private victim(maxEntries: number, maxBytes: number, now: number): string | undefined {
    let worst: string | undefined;
    let share = -1;
    for (const [tenant, h] of this.tenants) {
      if ((h.entries.values().next().value as Entry).expiresAt <= now) return tenant;
      const s = Math.max(h.entries.size / maxEntries, h.bytes / maxBytes);
      if (s > share) {
        share = s;
        worst = tenant;
      }
    }
    return worst;
  }

  put(tenant: string, record: StoredResponse): Promise<boolean> {
    const s = this.settings();
    const json = JSON.stringify(record);
    const bytes = Buffer.byteLength(json);
    if (bytes > s.max_record_bytes) return Promise.resolve(false);
    const id = record.response.id;
    this.remove(tenant, id);
    let h = this.tenants.get(tenant);
    if (h === undefined) {
      h = { entries: new Map(), bytes: 0 };
      this.tenants.set(tenant, h);
    }
    h.entries.set(id, { json, bytes, expiresAt: this.now() + s.ttl_s * 1000 });
    h.bytes += bytes;
    this.count++;
    this.bytes += bytes;
    const now = this.now();
    while (this.count > s.max_entries || this.bytes > s.max_bytes) {
      const victim = this.victim(s.max_entries, s.max_bytes, now)!;
      const held = this.tenants.get(victim)!;
      const oldest = held.entries.keys().next().value as string;
      this.remove(victim, oldest);
    }
    // Expired records at the front of this tenant's age order leave now rather than when read.
    for (const [k, e] of this.tenants.get(tenant)?.entries ?? []) {
      if (e.expiresAt > now) break;
      this.remove(tenant, k);
    }
    return Promise.resolve(true);
  }

  get(tenant: string, id: string): Promise<StoredResponse | undefined> {
    const e = this.tenants.get(tenant)?.entries.get(id);
    if (e === undefined) return Promise.resolve(undefined);
    if (e.expiresAt <= this.now()) {
      this.remove(tenant, id);
      return Promise.resolve(undefined);
    }
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
