/**
 * A small document store: named collections of JSON documents keyed by id, with change notifications so every instance can
 * reload what another one changed. Memory (one process) or Redis (hash per collection + pub/sub).
 */

export type ChangeListener = (collection: string, id: string) => void;

export interface DocumentStore {
  readonly kind: 'memory' | 'redis';
  /** Every document of a collection, by id. */
  list(collection: string): Promise<Map<string, unknown>>;
  get(collection: string, id: string): Promise<unknown | undefined>;
  /** Stores a document only if the id is free; false when it already exists. */
  create(collection: string, id: string, doc: unknown): Promise<boolean>;
  /** Stores (replaces) a document. */
  put(collection: string, id: string, doc: unknown): Promise<void>;
  /** Removes a document; false when it did not exist. */
  delete(collection: string, id: string): Promise<boolean>;
  /** Called after any change, from this instance or (for Redis) any other. */
  onChange(listener: ChangeListener): void;
  close(): Promise<void>;
}

export class MemoryDocumentStore implements DocumentStore {
  readonly kind = 'memory' as const;
  private readonly collections = new Map<string, Map<string, string>>();
  private readonly listeners: ChangeListener[] = [];

  private coll(name: string): Map<string, string> {
    let c = this.collections.get(name);
    if (c === undefined) this.collections.set(name, (c = new Map()));
    return c;
  }

  private emit(collection: string, id: string): void {
    for (const l of this.listeners) l(collection, id);
  }

  // Documents are kept serialised so callers never share mutable objects with the store.
  list(collection: string): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (const [id, json] of this.coll(collection)) out.set(id, JSON.parse(json));
    return Promise.resolve(out);
  }

  get(collection: string, id: string): Promise<unknown | undefined> {
    const json = this.coll(collection).get(id);
    return Promise.resolve(json === undefined ? undefined : JSON.parse(json));
  }

  create(collection: string, id: string, doc: unknown): Promise<boolean> {
    const c = this.coll(collection);
    if (c.has(id)) return Promise.resolve(false);
    c.set(id, JSON.stringify(doc));
    this.emit(collection, id);
    return Promise.resolve(true);
  }

  put(collection: string, id: string, doc: unknown): Promise<void> {
    this.coll(collection).set(id, JSON.stringify(doc));
    this.emit(collection, id);
    return Promise.resolve();
  }

  delete(collection: string, id: string): Promise<boolean> {
    const existed = this.coll(collection).delete(id);
    if (existed) this.emit(collection, id);
    return Promise.resolve(existed);
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
