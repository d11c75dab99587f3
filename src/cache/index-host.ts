/**
 * The cache's HNSW indexes, off the event loop. Inserting a 512-dimension vector (hundreds of microseconds with the
 * cache's graph settings) and walking the graph for a lookup (one to a few hundred) are native calls that would otherwise
 * hold the loop every request waits on; here one worker thread (index-worker.ts) holds every partition's index. Adds and
 * removes are posted without waiting; searches and vector reads are answered in the order everything was sent, so a search
 * sees every add and remove before it. A request's lookup awaits its answer within the request's semantic budget, so a busy
 * index thread makes lookups skip (overload), never makes a request wait.
 * Should the thread stop, its calls fail, a new one starts empty and `onLost` lets the owner drop what it indexed.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker, workerScript } from '../util/start-worker.js';
import type { FromIndex, IndexSetup, ToIndex } from './index-protocol.js';

const WORKER_URL = workerScript(import.meta.url, 'index-worker');

export interface Neighbour {
  label: number;
  /** Cosine similarity in [-1, 1]. */
  score: number;
}

interface Call {
  resolve: (m: FromIndex) => void;
  reject: (err: Error) => void;
}

export class IndexHost {
  private worker: Worker;
  private readonly pending = new Map<number, Call>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly setup: IndexSetup,
    /** The thread stopped: every index it held is gone (a new, empty one serves from now on). */
    private readonly onLost: (why: string) => void,
    /** An add or remove failed in the thread (nothing waits for those). */
    private readonly onError: (message: string) => void,
  ) {
    this.worker = this.spawn();
  }

  add(part: string, label: number, vector: Float32Array): void {
    this.post({ op: 'add', part, label, vector });
  }

  remove(part: string, label: number): void {
    this.post({ op: 'remove', part, label });
  }

  /** Forgets a partition's whole index. */
  drop(part: string): void {
    this.post({ op: 'drop', part });
  }

  clear(): void {
    this.post({ op: 'clear' });
  }

  /** The k nearest labels of a partition by cosine similarity, best first. */
  async search(part: string, vector: Float32Array, k: number): Promise<Neighbour[]> {
    const m = await this.call({ op: 'search', id: this.nextId++, part, vector, k });
    if (!('labels' in m)) return [];
    const out: Neighbour[] = new Array(m.labels.length);
    for (let i = 0; i < m.labels.length; i++) out[i] = { label: m.labels[i], score: m.scores[i] };
    return out;
  }

  /** The vector stored under a label, as the index keeps it (unit length), or undefined. */
  async vector(part: string, label: number): Promise<Float32Array | undefined> {
    const m = await this.call({ op: 'vector', id: this.nextId++, part, label });
    return 'vector' in m ? m.vector : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failPending('the cache index is closed');
    await this.worker.terminate();
  }

  private post(m: ToIndex): void {
    if (!this.closed) this.worker.postMessage(m);
  }

  private call(m: ToIndex & { id: number }): Promise<FromIndex> {
    if (this.closed) return Promise.reject(new Error('the cache index is closed'));
    return new Promise<FromIndex>((resolve, reject) => {
      // A call in flight keeps the process alive; an idle thread never does.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(m.id, { resolve, reject });
      this.worker.postMessage(m);
    });
  }

  private spawn(): Worker {
    const w = startWorker(WORKER_URL, { workerData: this.setup });
    w.unref();
    w.on('message', (m: FromIndex) => this.settle(m));
    w.on('error', (err) => this.lost(w, err.message));
    w.on('exit', (code) => this.lost(w, `exit code ${code}`));
    return w;
  }

  private settle(m: FromIndex): void {
    if ('error' in m && m.id === 0) {
      this.onError(m.error);
      return;
    }
    const call = this.pending.get(m.id);
    if (call === undefined) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if ('error' in m) call.reject(new Error(`cache index: ${m.error}`));
    else call.resolve(m);
  }

  private lost(w: Worker, why: string): void {
    if (w !== this.worker || this.closed) return;
    this.failPending(`the cache index thread stopped (${why})`);
    this.worker = this.spawn();
    this.onLost(why);
  }

  private failPending(message: string): void {
    for (const call of this.pending.values()) call.reject(new Error(message));
    this.pending.clear();
  }
}
