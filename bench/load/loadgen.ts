/**
 * The load generator: a separate Node process that drives one target over HTTP/1.1 keep-alive (undici Pool) and measures with
 * process.hrtime.bigint().
 *  - closed loop: `concurrency` workers, each sends its next request when the previous reply has been read in full;
 *  - open loop: requests are scheduled at a fixed rate on a timer, independent of replies, and latency is measured from the
 *    scheduled send time, so a slow target cannot hide its queueing (no coordinated omission).
 * The spec arrives as JSON on stdin; the result is printed as one JSON line on stdout.
 */
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { round, Samples } from './stats.js';
import { seededRandom } from '../../src/util/seeded-random.js';

export interface Workload {
  model: string;
  /** Prompts drawn with probability `hot_fraction` (so they repeat). */
  hot_prompts: string[];
  /** Prompts drawn otherwise, in order; once exhausted they repeat with a serial number so each stays unique. */
  unique_prompts: string[];
  hot_fraction: number;
  seed?: number;
  /**
   * Index of the first unique prompt to send. A target process that served earlier loads has seen their prompts (its
   * embedder's LRU and its cache keep them): the next load continues after them (PromptCursor, ./modes.ts), so every
   * unique prompt a process receives is new to it.
   */
  unique_start?: number;
}

export interface LoadSpec {
  origin: string;
  path: string;
  mode: 'closed' | 'open';
  /** Closed loop: concurrent workers (and connections). */
  concurrency?: number;
  /** Open loop: requests per second. */
  rate?: number;
  /** Open loop: connection pool size (requests beyond it queue in the client and the wait counts as latency). */
  connections?: number;
  warmup_ms: number;
  duration_ms: number;
  stream: boolean;
  workload: Workload;
  headers?: Record<string, string>;
  /** How long to wait for in-flight replies after the last send. */
  drain_ms?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  /** Streams: time to the first body byte. */
  ttfb_p50_ms?: number;
  ttfb_p99_ms?: number;
  /** Open loop: the latest a request was actually sent after its scheduled time. */
  max_send_lag_ms?: number;
  /** Replies per `x-switchyard-cache` value (hit, miss, ...), when the target sets it. */
  cache?: Record<string, number>;
  /** Replies per `x-switchyard-semantic` value (ready, degraded), when the target sets it. */
  semantic?: Record<string, number>;
  /** Latency per `x-switchyard-semantic` value: where the tail comes from. */
  semantic_latency?: Record<string, { p50_ms: number; p99_ms: number }>;
  error_kinds?: Record<string, number>;
  /** Unique prompts sent (warm-up included): where the next load to the same process starts (Workload.unique_start). */
  unique_sent?: number;
}

const nowUs = (): number => Number(process.hrtime.bigint()) / 1e3;

/** A deterministic PRNG so every target sees the same request sequence. */
const prng = seededRandom;

/** Produces request bodies (pre-serialised for repeating prompts, built on demand for unique ones), and counts the unique ones sent. */
function bodySource(w: Workload, stream: boolean): { next: () => string; uniqueSent: () => number } {
  const serialise = (text: string): string =>
    JSON.stringify({ model: w.model, stream, messages: [{ role: 'system', content: 'You are a concise assistant.' }, { role: 'user', content: text }] });
  const hot = w.hot_prompts.map(serialise);
  const rand = prng(w.seed ?? 42);
  const start = w.unique_start ?? 0;
  let unique = start;
  const next = (): string => {
    if (hot.length > 0 && (w.unique_prompts.length === 0 || rand() < w.hot_fraction)) return hot[Math.floor(rand() * hot.length)];
    const i = unique++;
    const base = w.unique_prompts[i % w.unique_prompts.length];
    return serialise(i < w.unique_prompts.length ? base : `${base} (${Math.floor(i / w.unique_prompts.length)})`);
  };
  return { next, uniqueSent: () => unique - start };
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const closed = spec.mode === 'closed';
  const connections = closed ? (spec.concurrency ?? 1) : (spec.connections ?? 128);
  const pool = new Pool(spec.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-bench', ...spec.headers };
  const bodies = bodySource(spec.workload, spec.stream);
  const nextBody = bodies.next;
  const latency = new Samples();
  const ttfb = new Samples();
  const cache: Record<string, number> = {};
  const semantic: Record<string, number> = {};
  const semanticLatency = new Map<string, Samples>();
  const errorKinds: Record<string, number> = {};
  let errors = 0;
  let completed = 0;
  let lastDone = 0;

  const start = nowUs();
  const measureFrom = start + spec.warmup_ms * 1000;
  const measureTo = measureFrom + spec.duration_ms * 1000;

  const fail = (kind: string, measured: boolean): void => {
    if (!measured) return;
    errors++;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };

  /** Sends one request; `t0` is when it was due (open loop) or sent (closed loop). */
  async function once(t0: number, measured: (done: number) => boolean): Promise<void> {
    let first = 0;
    try {
      const res = await pool.request({ path: spec.path, method: 'POST', headers, body: nextBody() });
      let tail = '';
      for await (const chunk of res.body) {
        if (first === 0) first = nowUs();
        if (spec.stream) tail = (tail + (chunk as Buffer).toString('latin1')).slice(-32);
      }
      const done = nowUs();
      if (!measured(done)) return;
      if (res.statusCode !== 200) return fail(`status_${res.statusCode}`, true);
      if (spec.stream && !tail.includes('[DONE]')) return fail('stream_incomplete', true);
      const c = res.headers['x-switchyard-cache'];
      if (typeof c === 'string') cache[c] = (cache[c] ?? 0) + 1;
      const sem = res.headers['x-switchyard-semantic'];
      if (typeof sem === 'string') {
        semantic[sem] = (semantic[sem] ?? 0) + 1;
        let s = semanticLatency.get(sem);
        if (s === undefined) semanticLatency.set(sem, (s = new Samples(1024)));
        s.push(done - t0);
      }
      latency.push(done - t0);
      if (spec.stream) ttfb.push(first - t0);
      completed++;
      if (done > lastDone) lastDone = done;
    } catch (err) {
      fail((err as { code?: string }).code ?? 'exception', measured(nowUs()));
    }
  }

  let maxLag = 0;
  if (closed) {
    const inWindow = (done: number): boolean => done >= measureFrom && done <= measureTo;
    await Promise.all(Array.from({ length: connections }, async () => {
      while (nowUs() < measureTo) await once(nowUs(), inWindow);
    }));
  } else {
    const rate = spec.rate ?? 100;
    const intervalUs = 1e6 / rate;
    const total = Math.round((rate * (spec.warmup_ms + spec.duration_ms)) / 1000);
    const inflight = new Set<Promise<void>>();
    let sent = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = nowUs();
        const due = Math.min(total, Math.floor((now - start) / intervalUs) + 1);
        while (sent < due) {
          const scheduled = start + sent * intervalUs;
          if (now - scheduled > maxLag) maxLag = now - scheduled;
          const measured = scheduled >= measureFrom;
          const p = once(scheduled, () => measured);
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
          sent++;
        }
        if (sent < total) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
    const drain = new Promise<'timeout'>((resolve) => setTimeout(resolve, spec.drain_ms ?? 15_000, 'timeout').unref());
    if ((await Promise.race([Promise.all(inflight).then(() => 'ok' as const), drain])) === 'timeout') {
      errors += inflight.size;
      errorKinds.drain_timeout = inflight.size;
    }
  }
  await pool.destroy();

  const windowUs = closed ? spec.duration_ms * 1000 : Math.max(lastDone, measureTo) - measureFrom;
  const result: LoadResult = { requests: completed, errors, rps: round(completed / (windowUs / 1e6), 1), ...latency.summary() };
  if (spec.stream) {
    const t = ttfb.summary();
    result.ttfb_p50_ms = t.p50_ms;
    result.ttfb_p99_ms = t.p99_ms;
  }
  if (!closed) result.max_send_lag_ms = round(maxLag / 1000);
  if (Object.keys(cache).length > 0) result.cache = cache;
  if (Object.keys(semantic).length > 0) {
    result.semantic = semantic;
    result.semantic_latency = {};
    for (const [state, s] of semanticLatency) {
      const { p50_ms, p99_ms } = s.summary();
      result.semantic_latency[state] = { p50_ms, p99_ms };
    }
  }
  if (errors > 0) result.error_kinds = errorKinds;
  result.unique_sent = bodies.uniqueSent();
  return result;
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of process.stdin) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const spec = JSON.parse(await readStdin()) as LoadSpec;
  process.stdout.write(`${JSON.stringify(await runLoad(spec))}\n`);
}
