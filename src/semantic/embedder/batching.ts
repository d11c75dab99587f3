/**
 * Wraps an Embedder so concurrent calls share model calls: texts arriving within `windowMs` of each other (up to `maxBatch`)
 * go to the model together, up to `concurrency` model calls at a time (a batch starts while the previous one runs, so the
 * cores stay busy); while every slot is taken, the next batch gathers. Identical texts in flight
 * share one result, recent results are kept in an LRU keyed by a hash of the text, and inputs are cut to `maxInputChars`.
 *
 * The queue is bounded: past `maxQueue` texts waiting for a model call, or when the model calls it would have to wait for
 * cannot finish within what the caller can wait (`maxWaitMs`), a new text is refused at once with EmbedderBusy (the caller
 * goes on without an embedding rather than queueing behind work it cannot wait for). The queue is fair between owners
 * (fair-line.ts): a text goes ahead of another owner's backlog, so its wait is predicted from the texts ahead of it, and
 * when it pushes a bounded text at the back past what that text's caller can wait (or the queue past `maxQueue`), that
 * text is refused then, as it would have been on arrival: one owner's flood costs its own requests their embeddings, not
 * another owner's. The wait is predicted from the calls
 * running (the first expected to end frees a slot) and a line fitted to past calls' durations against their text counts;
 * the prediction learns from its misses (how much later than predicted bounded texts actually got their vectors: under
 * load the cores are shared and the event loop delivers results late), smoothed and added to it. An idle embedder always
 * takes the text (it starts at once), which also keeps the measurements fresh. A caller may also give up
 * through its AbortSignal: a text nobody waits for any more leaves the queue before it costs a model call. Both refusals
 * are shared error instances: they are control flow on the overload path, not worth a stack trace each.
 */
import { hash } from 'node:crypto';
import { FairLine, type InLine } from './fair-line.js';
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

interface Pending extends InLine {
  key: string;
  text: string;
  /** Callers waiting for this text; at 0 (all gave up) a queued text is dropped. */
  waiters: number;
  /**
   * When its last caller stops waiting (performance.now() time; a caller joining the queued text can only move it later);
   * undefined once an unbounded caller waits for it: then it is never refused.
   */
  deadline: number | undefined;
  /** Refused after it queued, pushed back by another owner's text: its wait teaches the prediction nothing. */
  displaced: boolean;
  promise: Promise<Float32Array>;
  resolve: (v: Float32Array) => void;
  reject: (err: unknown) => void;
}

/** The embedder's queue is full, or too long to wait through: the caller should go on without an embedding. */
export class EmbedderBusy extends Error {
  static readonly instance = new EmbedderBusy();
  /**
   * The promise every refusal on arrival returns: one rejected promise, so a caller can tell the refusal by identity in
   * the same turn (under overload most requests are refused, and need no promise of their own to learn it).
   */
  static readonly refusal: Promise<never> = Promise.reject(EmbedderBusy.instance);
  private constructor() {
    super('the embedder is busy');
    this.name = 'EmbedderBusy';
  }
}
EmbedderBusy.refusal.catch(() => undefined); // each caller observes it; the shared promise itself is handled

/** The caller's signal fired before its text was embedded. */
export class EmbedAborted extends Error {
  static readonly instance = new EmbedAborted();
  private constructor() {
    super('the caller stopped waiting for the embedding');
    this.name = 'EmbedAborted';
  }
}

/** Weight of the newest model call in the running estimate of a model call's duration. */
const CALL_ALPHA = 0.2;
/** Weight of the newest bounded text in the running estimate of how late results come against the prediction. */
const LATE_ALPHA = 1 / 8;
/** Weight of the newest model call in the line fitted to calls' durations against their text counts. */
const FIT_ALPHA = 0.05;

export interface BatchingStats {
  /** Texts requested. */
  requests: number;
  lruHits: number;
  /** Model calls made and texts they embedded. */
  batches: number;
  embedded: number;
  /**
   * Texts refused because the queue was full (or too long to wait through), on arrival or later when another owner's text
   * went ahead of them, and queued texts dropped because every caller gave up.
   */
  refused: number;
  dropped: number;
}

/** The cache key of a text: a hash, so the caches never hold prompt text. */
export const textKey = (text: string): string => hash('sha1', text, 'base64url');

export class BatchingEmbedder implements Embedder {
  readonly id: string;
  readonly space: string | undefined;
  readonly dim: number;
  readonly stats: BatchingStats = { requests: 0, lruHits: 0, batches: 0, embedded: 0, refused: 0, dropped: 0 };
  private readonly lru: Lru<string, Float32Array>;
  private readonly inflight = new Map<string, Pending>();
  private readonly line = new FairLine<Pending>();
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** Model calls running now, and when each is expected to end (performance.now() time). */
  private running = 0;
  private readonly endsAt: number[] = [];
  /** Running estimate of a model call's wall time (ms); 0 until the first call. */
  private callMs = 0;
  /**
   * Running means of a call's text count, its duration, their squares and product: a line fitted to the calls, so a call
   * of 32 texts is not predicted to take as long as one of 3 (nor as long as 32 calls of one).
   */
  private readonly fit = { n: 0, t: 0, nn: 0, nt: 0 };
  /** Smoothed lateness of bounded texts against their prediction (ms; negative when they came early; counted from 0). */
  private lateMs = 0;
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
   * `budget` marks a caller whose wait is bounded (a request): it is refused with EmbedderBusy when the queue is full or
   * the texts ahead of it would take longer than `maxWaitMs`, and rejected with EmbedAborted when the signal fires first.
   * Without it (start-up, offline tools) the text always queues. A signal given as a function is made only on an LRU miss.
   * `owner` (a virtual key; '' for none) is whom the queue is fair between.
   */
  embedOne(text: string, budget?: AbortSignal | (() => AbortSignal), maxWaitMs = Infinity, owner = ''): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('the embedder is closed'));
    this.stats.requests++;
    const cut = text.length > this.opts.maxInputChars ? text.slice(0, this.opts.maxInputChars) : text;
    const key = textKey(cut);
    const hit = this.lru.get(key);
    if (hit) {
      this.stats.lruHits++;
      return Promise.resolve(hit);
    }
    let p = this.inflight.get(key);
    // A refusal comes before the signal is made: under overload most bounded callers are refused, and need none.
    const bounded = p === undefined && budget !== undefined;
    const place = p === undefined ? this.line.place(owner) : undefined;
    const predicted = bounded && place !== undefined ? this.expectedWaitMs(place.ahead + 1) : 0;
    if (bounded && place !== undefined && !this.admits(predicted, maxWaitMs, place.behind > 0)) {
      this.stats.refused++;
      return EmbedderBusy.refusal;
    }
    const signal = typeof budget === 'function' ? budget() : budget;
    if (signal?.aborted) return Promise.reject(EmbedAborted.instance);
    if (p === undefined) {
      let resolve!: (v: Float32Array) => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<Float32Array>((res, rej) => { resolve = res; reject = rej; });
      promise.catch(() => undefined); // observed by the waiters; a dropped text's rejection has none
      const deadline = budget === undefined ? undefined : performance.now() + maxWaitMs;
      p = { key, text: cut, waiters: 0, taken: false, owner, round: 0, deadline, displaced: false, promise, resolve, reject };
      this.inflight.set(key, p);
      this.line.insert(p, owner, place!);
      if (budget !== undefined) this.learnLateness(p, predicted);
      if (place!.behind > 0) this.displaceLate(p);
      this.schedule();
    } else if (p.deadline !== undefined) {
      p.deadline = budget === undefined ? undefined : Math.max(p.deadline, performance.now() + maxWaitMs);
    }
    p.waiters++;
    return signal === undefined ? p.promise : this.abandonable(p, signal);
  }

  /**
   * Whether a new bounded text may queue: an idle embedder takes it; otherwise the queue must have room (or a text behind
   * it that can make room) and the text's predicted wait, plus how late results have lately come against their
   * predictions, must fit the caller's budget.
   */
  private admits(predicted: number, maxWaitMs: number, goesAhead: boolean): boolean {
    return this.idle || ((goesAhead || this.line.live < this.opts.maxQueue) && predicted + Math.max(0, this.lateMs) <= maxWaitMs);
  }

  /**
   * After `p` went ahead of texts already queued: refuses, from the back, bounded texts it pushed past what their callers
   * can wait (or past maxQueue), as they would have been refused had they arrived now.
   */
  private displaceLate(p: Pending): void {
    for (;;) {
      const last = this.line.last();
      if (last === undefined || last === p || last.deadline === undefined) return;
      const over = this.line.live > this.opts.maxQueue;
      if (!over && performance.now() + this.expectedWaitMs(this.line.live) + Math.max(0, this.lateMs) <= last.deadline) return;
      this.line.drop(last);
      last.displaced = true;
      this.stats.refused++;
      this.inflight.delete(last.key);
      last.reject(EmbedderBusy.instance);
    }
  }

  private get idle(): boolean {
    return this.running === 0 && this.line.live === 0;
  }

  /**
   * How long a text that would be `position`-th in the queue waits for its vector: until a slot frees when every slot is
   * taken (the first running call expected to end), then the rounds of calls up to and including its own (calls of up to
   * maxBatch texts, `concurrency` at a time), each as long as a call of that many texts. 0 when the embedder is idle (the
   * text starts at once, and its call refreshes the measurement) and before the first call.
   */
  private expectedWaitMs(position: number): number {
    if (this.idle) return 0;
    const calls = Math.ceil(position / this.opts.maxBatch);
    const rounds = Math.ceil(calls / (this.opts.concurrency ?? 1)) * this.callDurationMs(Math.min(position, this.opts.maxBatch));
    if (!this.busy) return rounds;
    let firstEnd = Infinity;
    for (const end of this.endsAt) if (end < firstEnd) firstEnd = end;
    return rounds + Math.max(0, firstEnd - performance.now());
  }

  /**
   * Expected wall time of a model call of `texts` texts, from the line fitted to the calls so far; the mean call while
   * the calls seen were all of about one size (no slope to read yet).
   */
  private callDurationMs(texts: number): number {
    const { n, t, nn, nt } = this.fit;
    const spread = nn - n * n;
    if (spread < 0.25) return this.callMs;
    const perText = Math.max(0, (nt - n * t) / spread);
    return Math.max(0, t + perText * (texts - n));
  }

  /** Adds a call of `texts` texts that took `took` ms to the fitted line (the first call sets it). */
  private learnCall(texts: number, took: number): void {
    const w = this.stats.batches === 0 ? 1 : FIT_ALPHA;
    this.fit.n += w * (texts - this.fit.n);
    this.fit.t += w * (took - this.fit.t);
    this.fit.nn += w * (texts * texts - this.fit.nn);
    this.fit.nt += w * (texts * took - this.fit.nt);
  }

  /**
   * Compares a bounded text's wait with its prediction once it ends (a dropped text ends when its last caller gave up; a
   * displaced one ended for another reason).
   */
  private learnLateness(p: Pending, predicted: number): void {
    const queuedAt = performance.now();
    const learn = (): void => {
      if (!p.displaced) this.lateMs = LATE_ALPHA * (performance.now() - queuedAt - predicted) + (1 - LATE_ALPHA) * this.lateMs;
    };
    p.promise.then(learn, learn);
  }

  /** The pending text's result, or EmbedAborted when the signal fires first (then the text may leave the queue). */
  private abandonable(p: Pending, signal: AbortSignal): Promise<Float32Array> {
    return new Promise<Float32Array>((resolve, reject) => {
      const onAbort = (): void => {
        reject(EmbedAborted.instance);
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
    this.line.drop(p);
    this.stats.dropped++;
    this.inflight.delete(p.key);
    p.reject(EmbedAborted.instance);
  }

  /** Texts waiting for a model call. */
  get queued(): number {
    return this.line.live;
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    return Promise.all(texts.map((t) => this.embedOne(t)));
  }

  private get busy(): boolean {
    return this.running >= (this.opts.concurrency ?? 1);
  }

  private schedule(): void {
    if (this.busy) return;
    if (this.line.live >= this.opts.maxBatch) {
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
    if (this.busy) return;
    const batch = this.line.take(this.opts.maxBatch);
    if (batch.length === 0) return;
    this.running++;
    const started = performance.now();
    const endsAt = started + this.callDurationMs(batch.length);
    this.endsAt.push(endsAt);
    // A free slot takes what is left at once (the next turn), so batches overlap.
    if (this.line.live > 0 && !this.busy) this.schedule();
    try {
      const vecs = await this.inner.embed(batch.map((p) => p.text));
      const took = performance.now() - started;
      this.callMs = this.callMs === 0 ? took : CALL_ALPHA * took + (1 - CALL_ALPHA) * this.callMs;
      this.learnCall(batch.length, took);
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
      this.endsAt.splice(this.endsAt.indexOf(endsAt), 1);
      // Whatever queued meanwhile has already waited at least one model call: send it now.
      if (this.line.live > 0) void this.flush();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    const err = new Error('the embedder is closed');
    for (const p of this.line.clear()) {
      this.inflight.delete(p.key);
      p.reject(err);
    }
    this.lru.clear();
    await this.inner.close();
  }
}
