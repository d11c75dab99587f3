/**
 * Wraps an Embedder so concurrent calls share model calls: texts arriving within `windowMs` of each other (up to `maxBatch`)
 * go to the model together, one model call at a time; while one runs, the next batch gathers. Identical texts in flight
 * share one result, recent results are kept in an LRU keyed by a hash of the text, and inputs are cut to `maxInputChars`.
 */
import { createHash } from 'node:crypto';
import { Lru } from './lru.js';
import type { Embedder } from './types.js';

export interface BatchingOptions {
  windowMs: number;
  maxBatch: number;
  lruSize: number;
  maxInputChars: number;
}

interface Pending {
  key: string;
  text: string;
  resolve: (v: Float32Array) => void;
  reject: (err: unknown) => void;
}

export interface BatchingStats {
  /** Texts requested. */
  requests: number;
  lruHits: number;
  /** Model calls made and texts they embedded. */
  batches: number;
  embedded: number;
}

/** The cache key of a text: a hash, so the caches never hold prompt text. */
export const textKey = (text: string): string => createHash('sha1').update(text).digest('base64url');

export class BatchingEmbedder implements Embedder {
  readonly id: string;
  readonly dim: number;
  readonly stats: BatchingStats = { requests: 0, lruHits: 0, batches: 0, embedded: 0 };
  private readonly lru: Lru<string, Float32Array>;
  private readonly inflight = new Map<string, Promise<Float32Array>>();
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private running = false;
  private closed = false;

  constructor(
    readonly inner: Embedder,
    private readonly opts: BatchingOptions,
  ) {
    this.id = inner.id;
    this.dim = inner.dim;
    this.lru = new Lru(opts.lruSize);
  }

  /** One vector, batched with concurrent callers. The returned array is shared: do not modify it. */
  embedOne(text: string): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('the embedder is closed'));
    this.stats.requests++;
    const cut = text.length > this.opts.maxInputChars ? text.slice(0, this.opts.maxInputChars) : text;
    const key = textKey(cut);
    const hit = this.lru.get(key);
    if (hit) {
      this.stats.lruHits++;
      return Promise.resolve(hit);
    }
    const shared = this.inflight.get(key);
    if (shared) return shared;
    const p = new Promise<Float32Array>((resolve, reject) => {
      this.queue.push({ key, text: cut, resolve, reject });
    });
    this.inflight.set(key, p);
    this.schedule();
    return p;
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    return Promise.all(texts.map((t) => this.embedOne(t)));
  }

  private schedule(): void {
    if (this.running) return;
    if (this.queue.length >= this.opts.maxBatch) {
      this.clearTimer();
      void this.flush();
    } else if (!this.timer) {
      const fire = () => {
        this.timer = undefined;
        void this.flush();
      };
      this.timer = this.opts.windowMs > 0 ? setTimeout(fire, this.opts.windowMs) : setImmediate(fire);
    }
  }

  private clearTimer(): void {
    if (!this.timer) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  private async flush(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.queue.length <= this.opts.maxBatch ? this.queue : this.queue.slice(0, this.opts.maxBatch);
    this.queue = this.queue.length <= this.opts.maxBatch ? [] : this.queue.slice(this.opts.maxBatch);
    try {
      const vecs = await this.inner.embed(batch.map((p) => p.text));
      this.stats.batches++;
      this.stats.embedded += batch.length;
      for (let i = 0; i < batch.length; i++) {
        this.lru.set(batch[i].key, vecs[i]);
        this.inflight.delete(batch[i].key);
        batch[i].resolve(vecs[i]);
      }
    } catch (err) {
      for (const p of batch) {
        this.inflight.delete(p.key);
        p.reject(err);
      }
    } finally {
      this.running = false;
      // Whatever queued meanwhile has already waited at least one model call: send it now.
      if (this.queue.length > 0) void this.flush();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    const err = new Error('the embedder is closed');
    for (const p of this.queue.splice(0)) {
      this.inflight.delete(p.key);
      p.reject(err);
    }
    this.lru.clear();
    await this.inner.close();
  }
}
