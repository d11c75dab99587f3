/**
 * DocumentStore on Redis: one hash per collection (`<prefix>doc:<collection>`, field = id, value = JSON) and a pub/sub channel
 * (`<prefix>changes`) announcing every change, received by every instance on a duplicated connection.
 */
import type { ChangeListener, DocumentStore } from './documents.js';
import type { Redis } from './redis-script.js';

export interface RedisDocumentStoreOptions {
  /** Called when the subscription connection reports an error (it reconnects by itself). */
  onSubscriptionError?: (err: Error) => void;
}

export class RedisDocumentStore implements DocumentStore {
  readonly kind = 'redis' as const;
  private readonly listeners: ChangeListener[] = [];
  private subscriber: Redis | undefined;
  private readonly channel: string;

  private constructor(private readonly client: Redis, private readonly prefix: string) {
    this.channel = `${prefix}changes`;
  }

  /** Opens the store and its change subscription. `client` must already be connected. */
  static async open(client: Redis, prefix: string, opts: RedisDocumentStoreOptions = {}): Promise<RedisDocumentStore> {
    const store = new RedisDocumentStore(client, prefix);
    const sub = client.duplicate() as Redis;
    sub.on('error', (err: Error) => opts.onSubscriptionError?.(err));
    await sub.connect();
    await sub.subscribe(store.channel, (message) => store.received(message));
    store.subscriber = sub;
    return store;
  }

  private received(message: string): void {
    const nl = message.indexOf('\n');
    if (nl < 0) return;
    const collection = message.slice(0, nl);
    const id = message.slice(nl + 1);
    for (const l of this.listeners) l(collection, id);
  }

  private hash(collection: string): string {
    return `${this.prefix}doc:${collection}`;
  }

  private async announce(collection: string, id: string): Promise<void> {
    await this.client.publish(this.channel, `${collection}\n${id}`);
  }

  async list(collection: string): Promise<Map<string, unknown>> {
    const all = await this.client.hGetAll(this.hash(collection));
    const out = new Map<string, unknown>();
    for (const [id, json] of Object.entries(all)) out.set(id, JSON.parse(json));
    return out;
  }

  async get(collection: string, id: string): Promise<unknown | undefined> {
    const json = await this.client.hGet(this.hash(collection), id);
    return json === null || json === undefined ? undefined : JSON.parse(json);
  }

  async create(collection: string, id: string, doc: unknown): Promise<boolean> {
    const created = await this.client.hSetNX(this.hash(collection), id, JSON.stringify(doc));
    if (Number(created) === 1) {
      await this.announce(collection, id);
      return true;
    }
    return false;
  }

  async put(collection: string, id: string, doc: unknown): Promise<void> {
    await this.client.hSet(this.hash(collection), id, JSON.stringify(doc));
    await this.announce(collection, id);
  }

  async delete(collection: string, id: string): Promise<boolean> {
    const removed = await this.client.hDel(this.hash(collection), id);
    if (removed > 0) await this.announce(collection, id);
    return removed > 0;
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub === undefined) return;
    try {
      await sub.unsubscribe(this.channel);
    } catch {
      // The connection is going away anyway.
    } finally {
      sub.destroy();
    }
  }
}
