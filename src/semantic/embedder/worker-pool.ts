/**
 * The model, off the event loop: `size` worker threads each load the configured backend (embed-worker.ts) and run one model
 * call at a time. onnxruntime-node's `run` is synchronous — on the main thread every model call would stall every
 * request in flight, degraded ones included — so the request path only posts texts and receives vectors (transferred, not
 * copied). The workers run at a lower scheduling priority (a nice value, or SCHED_IDLE; Linux; thread-priority.ts), so under
 * CPU contention the event loop goes first and the model takes the cycles left over. A call goes to the worker with the fewest calls pending; a worker that
 * dies fails its pending calls and is replaced.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker, workerScript } from '../../util/module-worker.js';
import type { EmbedderConfig } from '../config.js';
import type { FallbackObserver } from './backend.js';
import type { WorkerPriority } from './thread-priority.js';
import type { Embedder } from './types.js';
import type { FromWorker, ToWorker, WorkerSetup } from './worker-protocol.js';

const WORKER_URL = workerScript('embed-worker', import.meta.url);

/**
 * The young generation of a worker's V8 heap (MB). A worker allocates little per model call (the texts, the token ids;
 * tensors and vectors are native), so V8's default (semi-spaces that grow to 16 MB) only held empty pages resident: two
 * workers at this bound measured 18 MB less RSS with the model loaded and 5 MB less with 100k cache entries
 * (docs/cache.md, "Memory"), at the same embedding throughput.
 */
const WORKER_YOUNG_GENERATION_MB = 2;
const WORKER_LIMITS = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };

/** A worker thread on the embed-worker script. */
function startWorker(workerData: WorkerSetup): Worker {
  return startModuleWorker(WORKER_URL, { workerData, resourceLimits: WORKER_LIMITS });
}

export interface WorkerPoolOptions {
  config: EmbedderConfig;
  rootDir: string;
  /** Worker threads (model calls at once). */
  size: number;
  /** The workers' scheduling priority (thread-priority.ts). */
  priority: WorkerPriority;
  onFallback?: FallbackObserver;
}

interface Call {
  resolve: (v: Float32Array[]) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Call>;
}

export class WorkerPoolEmbedder implements Embedder {
  private slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    readonly id: string,
    readonly space: string,
    readonly dim: number,
    private readonly opts: WorkerPoolOptions,
  ) {}

  /** Starts the workers and resolves once every one has loaded the model (rejects with the first load failure). */
  static async start(opts: WorkerPoolOptions): Promise<WorkerPoolEmbedder> {
    const started = await Promise.allSettled(Array.from({ length: Math.max(1, opts.size) }, () => spawn(opts)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    if (failed !== undefined) {
      await Promise.all(ok.map((s) => s.worker.terminate()));
      throw failed.reason;
    }
    const pool = new WorkerPoolEmbedder(ok[0].id, ok[0].space, ok[0].dim, opts);
    for (const s of ok) pool.adopt(s.worker);
    return pool;
  }

  /** Worker threads running now. */
  get size(): number {
    return this.slots.length;
  }

  private adopt(worker: Worker): void {
    const slot: Slot = { worker, pending: new Map() };
    this.slots.push(slot);
    worker.unref(); // idle workers never keep the process alive; a pending call refs its worker
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'result' && m.type !== 'error') return;
      const call = slot.pending.get(m.id);
      if (call === undefined) return;
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) worker.unref();
      if (m.type === 'result') call.resolve(m.vectors);
      else call.reject(new Error(`embedding failed: ${m.message}`));
    });
    const lost = (why: string): void => {
      const at = this.slots.indexOf(slot);
      if (at < 0) return;
      this.slots.splice(at, 1);
      for (const call of slot.pending.values()) call.reject(new Error(`the embedder worker stopped (${why})`));
      slot.pending.clear();
      if (!this.closed) this.replace();
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
  }

  private replace(): void {
    spawn(this.opts).then(
      (s) => {
        if (this.closed) void s.worker.terminate();
        else this.adopt(s.worker);
      },
      (err: Error) => this.opts.onFallback?.('an embedder worker could not be restarted', err),
    );
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    if (this.closed) return Promise.reject(new Error('the embedder is closed'));
    if (texts.length === 0) return Promise.resolve([]);
    let slot = this.slots[0];
    if (slot === undefined) return Promise.reject(new Error('no embedder worker is running'));
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.nextId++;
    return new Promise<Float32Array[]>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      const msg: ToWorker = { type: 'embed', id, texts };
      slot.worker.postMessage(msg);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const s of slots) {
      for (const call of s.pending.values()) call.reject(new Error('the embedder is closed'));
      s.pending.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

/** Starts one worker and waits until it has loaded the model. */
function spawn(opts: WorkerPoolOptions): Promise<{ worker: Worker; id: string; space: string; dim: number }> {
  const setup: WorkerSetup = { config: opts.config, rootDir: opts.rootDir, priority: opts.priority };
  const worker = startWorker(setup);
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker): void => {
      if (m.type === 'fallback') opts.onFallback?.(m.message, new Error(m.cause));
      else if (m.type === 'ready') {
        done();
        resolve({ worker, id: m.id, space: m.space, dim: m.dim });
      } else if (m.type === 'failed') {
        done();
        void worker.terminate();
        reject(new Error(m.message));
      }
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    const onExit = (code: number): void => {
      done();
      reject(new Error(`the embedder worker exited (${code}) before the model loaded`));
    };
    const done = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
