/**
 * Wraps an Embedder so concurrent calls share model calls: texts arriving within `windowMs` of each other (up to `maxBatch`)
 * go to the model together, up to `concurrency` model calls at a time (a batch starts while the previous one runs, so the
 * cores stay busy); while every slot is taken, the next batch gathers. Identical texts in flight
 * share one result, recent results are kept in an LRU keyed by a hash of the text, and inputs are cut to `maxInputChars`.
 *
 * The queue is bounded: past `maxQueue` texts waiting for a model call, a new text is refused at once with EmbedderBusy
 * (the caller goes on without an embedding rather than queueing behind work it cannot wait for). A caller may also give up
 * through its AbortSignal: a text nobody waits for any more leaves the queue before it costs a model call.
 */
import { createHash } from 'node:crypto';
import { Lru } from './lru.js';
import type { Embedder } from './types.js';

export interface BatchingOptions {
  windowMs: number;
  maxBatch: number;
  /** Texts waiting for a model call (not counting the batches running) before new ones are refused. */
  maxQueue: number;
  /** Model calls that may run at once (default 1). */
  concurrency?: number;
  lruSize: number;
  maxInputChars: number;
}

interface Pending {
  key: string;
  text: string;
  /** Callers waiting for this text; at 0 (all gave up) a queued text is dropped. */
  waiters: number;
  /** Set once it left the queue (sent to the model, or dropped). */
  taken: boolean;
  promise: Promise<Float32Array>;
  resolve: (v: Float32Array) => void;
  reject: (err: unknown) => void;
}

/** The embedder's queue is full: the caller should go on without an embedding. */
export class EmbedderBusy extends Error {
  constructor(queued: number) {
    super(`the embedder is busy (${queued} texts queued)`);
    this.name = 'EmbedderBusy';
  }
}

/** The caller's signal fired before its text was embedded. */
export class EmbedAborted extends Error {
  constructor() {
    super('the caller stopped waiting for the embedding');
    this.name = 'EmbedAborted';
  }
}

export interface BatchingStats {
  /** Texts requested. */
  requests: number;
  lruHits: number;
  /** Model calls made and texts they embedded. */
  batches: number;
  embedded: number;
  /** Texts refused because the queue was full, and queued texts dropped because every caller gave up. */
  refused: number;
  dropped: number;
}

/** The cache key of a text: a hash, so the caches never hold prompt text. */
export const textKey = (text: string): string => createHash('sha1').update(text).digest('base64url');

export class BatchingEmbedder implements Embedder {
  readonly id: string;
  readonly space: string | undefined;
  readonly dim: number;
  readonly stats: BatchingStats = { requests: 0, lruHits: 0, batches: 0, embedded: 0, refused: 0, dropped: 0 };
  private readonly lru: Lru<string, Float32Array>;
  private readonly inflight = new Map<string, Pending>();
  private queue: Pending[] = [];
  /** Queued texts someone still waits for (the queue may also hold dropped ones until the next flush skips them). */
  private live = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** Model calls running now. */
  private running = 0;
  private closed = false;

  constructor(
    readonly inner: Embedder,
    private readonly opts: BatchingOptions,
  ) {
    this.id = inner.id;
    this.space = inner.space;
    this.dim = inner.dim;
    this.lru = new Lru(opts.lruSize);
  }

  /**
   * One vector, batched with concurrent callers. The returned array is shared: do not modify it.
   * `budget` marks a caller whose wait is bounded (a request): it is refused with EmbedderBusy when the queue is full, and
   * rejected with EmbedAborted when the signal fires first. Without it (start-up, offline tools) the text always queues.
   */
  embedOne(text: string, budget?: AbortSignal): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('the embedder is closed'));
    this.stats.requests++;
    const cut = text.length > this.opts.maxInputChars ? text.slice(0, this.opts.maxInputChars) : text;
    const key = textKey(cut);
    const hit = this.lru.get(key);
    if (hit) {
      this.stats.lruHits++;
      return Promise.resolve(hit);
    }
    if (budget?.aborted) return Promise.reject(new EmbedAborted());
    let p = this.inflight.get(key);
    if (p === undefined) {
      if (budget !== undefined && this.live >= this.opts.maxQueue) {
        this.stats.refused++;
        return Promise.reject(new EmbedderBusy(this.live));
      }
      let resolve!: (v: Float32Array) => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<Float32Array>((res, rej) => { resolve = res; reject = rej; });
      promise.catch(() => undefined); // observed by the waiters; a dropped text's rejection has none
      p = { key, text: cut, waiters: 0, taken: false, promise, resolve, reject };
      this.inflight.set(key, p);
      this.queue.push(p);
      this.live++;
      this.schedule();
    }
    p.waiters++;
    return budget === undefined ? p.promise : this.abandonable(p, budget);
  }

  /** The pending text's result, or EmbedAborted when the signal fires first (then the text may leave the queue). */
  private abandonable(p: Pending, signal: AbortSignal): Promise<Float32Array> {
    return new Promise<Float32Array>((resolve, reject) => {
      const onAbort = (): void => {
        reject(new EmbedAborted());
        if (--p.waiters === 0 && !p.taken) this.drop(p);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      p.promise.then(
        (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
        (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err); },
      );
    });
  }

  /** Takes a queued text nobody waits for out of the queue (the next flush skips it). */
  private drop(p: Pending): void {
    p.taken = true;
    this.live--;
    this.stats.dropped++;
    this.inflight.delete(p.key);
    p.reject(new EmbedAborted());
  }

  /** Texts waiting for a model call. */
  get queued(): number {
    return this.live;
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    return Promise.all(texts.map((t) => this.embedOne(t)));
  }

  private get busy(): boolean {
    return this.running >= (this.opts.concurrency ?? 1);
  }

  private schedule(): void {
    if (this.busy) return;
    if (this.live >= this.opts.maxBatch) {
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

  /** Takes up to maxBatch texts someone still waits for off the front of the queue (dropped ones are discarded). */
  private take(): Pending[] {
    const batch: Pending[] = [];
    let i = 0;
    for (; i < this.queue.length && batch.length < this.opts.maxBatch; i++) {
      const p = this.queue[i];
      if (p.taken) continue;
      p.taken = true;
      batch.push(p);
    }
    this.queue = i === this.queue.length ? [] : this.queue.slice(i);
    this.live -= batch.length;
    return batch;
  }

  private async flush(): Promise<void> {
    if (this.busy) return;
    const batch = this.take();
    if (batch.length === 0) return;
    this.running++;
    // A free slot takes what is left at once (the next turn), so batches overlap.
    if (this.live > 0 && !this.busy) this.schedule();
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
      this.running--;
      // Whatever queued meanwhile has already waited at least one model call: send it now.
      if (this.live > 0) void this.flush();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    const err = new Error('the embedder is closed');
    for (const p of this.queue.splice(0)) {
      if (p.taken) continue;
      p.taken = true;
      this.inflight.delete(p.key);
      p.reject(err);
    }
    this.live = 0;
    this.lru.clear();
    await this.inner.close();
  }
}
