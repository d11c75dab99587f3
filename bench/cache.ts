/**
 * Cache benchmarks: semantic lookup latency (excluding the embedding) and recall@1 against exact search with N entries in
 * one partition, insert throughput, memory per entry, and exact-key hashing cost. Two workloads:
 * - `real_*`: USE-lite vectors of real questions from the evaluation data (../shared/data): the index holds CLINC150 train,
 *   Banking77 and the `a` side of the QQP and GPTCache pairs, queries are held-out questions (the `b` sides, CLINC150 val),
 *   never an exact repeat of an entry (a repeat is an exact hit and never reaches the semantic search). The data holds about
 *   52k distinct texts, so this workload has at most that many entries. Embeddings are computed here and kept on disk under
 *   the system temp folder (keyed by embedder and text hash); a cold run embeds for at most `embedBudgetS` seconds and uses
 *   what it has (`real_entries` says how many), the next run goes on from the cache. Skipped when the data is absent.
 * - unprefixed keys (measured first, at the full size): synthetic clustered 512-d unit vectors (200 random centres +
 *   uniform noise). Within a cluster the points are nearly random: an effective dimension of about 250 where real USE-lite
 *   vectors measure about 50 (participation ratio of the covariance spectrum), and a median nearest-neighbour cosine of
 *   0.67 against 0.87. A much harder index than real questions, kept as a stress test.
 * The index defaults were chosen on other queries as well as these: the 2,000 query-side texts that follow these 1,000 in
 * the mixed order (held out of the index) and the 2,000 synthetic samples drawn after these (docs/cache.md).
 * Latency is reported as measured (`lookup_p99_ms`) and without the time the thread sat runnable in the kernel's run queue
 * (`lookup_p99_ms_cpu`, Linux schedstat): on a shared machine a preempted lookup waits a 4 ms time slice, which says
 * nothing about the lookup. Recall@1 counts a query as found when the first result scores as high as the exact best
 * (equal vectors tie).
 */
import { openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import hnswlib from 'hnswlib-node';
import { pino } from 'pino';
import { SemanticCache } from '../src/cache/semantic-cache.js';
import { normaliseText, requestKey, type RequestKey } from '../src/cache/request-key.js';
import { fromJsonReply } from '../src/cache/reply.js';
import { defaultCacheConfig } from '../src/cache/config.js';
import { ANONYMOUS } from '../src/pipeline/context.js';
import { SemanticConfigSchema } from '../src/semantic/config.js';
import { createSemanticService, type SemanticService } from '../src/semantic/service.js';
import { EmbeddingStore, textDigest } from '../src/semantic/catalog/embedding-store.js';
import { UseLiteEmbedder } from '../src/semantic/embedder/use-lite.js';
import { seededRandom } from '../src/util/seeded-random.js';
import { measureCacheRss } from './cache-rss.js';

export interface CacheBenchOptions {
  /** Entries in the partition (the real workload is capped by the data it has). */
  entries?: number;
  queries?: number;
  /** Cache index settings; the config defaults when absent. */
  M?: number;
  efConstruction?: number;
  efSearch?: number;
  /** Load the default embedder and reference prompts first, so the reported RSS is the gateway's footprint. */
  withModel?: boolean;
  dataDir?: string;
  /** Seconds a run may spend embedding real texts that are not in the on-disk cache yet. */
  embedBudgetS?: number;
  workloads?: Array<'real' | 'stress'>;
}

const DIM = 512;
const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const mb = (b: number): number => Math.round(b / 1e5) / 10;

/** Full collections, so memory deltas count live objects only (works without --expose-gc on the command line). */
let fullGc: (() => void) | undefined;
/** Array buffers' memory is released after the collection that finds them dead, so collect, yield, and collect again. */
async function gc(): Promise<void> {
  if (fullGc === undefined) {
    v8.setFlagsFromString('--expose-gc');
    fullGc = vm.runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < 3; i++) {
    fullGc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
const jsBytes = (): number => { const m = process.memoryUsage(); return m.heapUsed + m.external; };

/** Nanoseconds this thread has waited runnable for a CPU (Linux), read without allocating a file handle per call. */
function runQueueClock(): () => number {
  let fd = -1;
  try { fd = openSync('/proc/thread-self/schedstat', 'r'); } catch { return () => 0; }
  const buf = Buffer.alloc(96);
  return () => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    const s = buf.toString('latin1', 0, n);
    const a = s.indexOf(' ');
    return Number(s.slice(a + 1, s.indexOf(' ', a + 1))) || 0;
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Workloads

/** `embedder`: whose vectors these are; absent for synthetic vectors. */
interface Workload { index: Float32Array[]; queries: Float32Array[]; embedder?: string }

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

function stressWorkload(n: number, q: number): Workload {
  const rand = seededRandom(42);
  const centres = Array.from({ length: 200 }, () => unit(Float32Array.from({ length: DIM }, () => rand() - 0.5)));
  const sample = (): Float32Array => {
    const c = centres[Math.floor(rand() * centres.length)];
    return unit(Float32Array.from({ length: DIM }, (_, i) => c[i] + (rand() - 0.5) * 0.12));
  };
  return { index: Array.from({ length: n }, sample), queries: Array.from({ length: q }, sample) };
}

/** [file under the data folder, JSON field]. */
const INDEX_SOURCES: Array<[string, string]> = [
  ['pairs/qqp_dev_balanced_10k.jsonl', 'a'], ['clinc150/train.jsonl', 'text'], ['banking77/train.jsonl', 'text'],
  ['pairs/qqp_dev_hard_2k.jsonl', 'a'], ['pairs/gptcache_mock_positive.jsonl', 'a'], ['clinc150/oos_train.jsonl', 'text'],
];
const QUERY_SOURCES: Array<[string, string]> = [
  ['pairs/qqp_dev_balanced_10k.jsonl', 'b'], ['clinc150/val.jsonl', 'text'], ['pairs/qqp_dev_hard_2k.jsonl', 'b'],
  ['pairs/gptcache_mock_positive.jsonl', 'b'], ['clinc150/oos_val.jsonl', 'text'],
];

async function readField(file: string, field: string): Promise<string[]> {
  const out: string[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    const v = (JSON.parse(line) as Record<string, unknown>)[field];
    if (typeof v === 'string' && v.trim() !== '') out.push(normaliseText(v));
  }
  return out;
}

/** Interleaves lists one item at a time, so any prefix mixes every source. */
function roundRobin(lists: string[][]): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.max(0, ...lists.map((l) => l.length)); i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

/** Picks distinct query texts, then distinct entry texts that are not queries: sources first, unused query-side texts last. */
export async function realTexts(
  dataDir: string, entries: number, queries: number,
): Promise<{ index: string[]; queries: string[] } | undefined> {
  let idx: string[][], qs: string[][];
  try {
    idx = await Promise.all(INDEX_SOURCES.map(([f, k]) => readField(path.join(dataDir, f), k)));
    qs = await Promise.all(QUERY_SOURCES.map(([f, k]) => readField(path.join(dataDir, f), k)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const indexSide = roundRobin(idx);
  const inIndexSide = new Set(indexSide);
  const picked = new Set<string>();
  const query: string[] = [];
  // At least 1,000 query texts are held out of the index, so the entries (and their cached embeddings) do not depend on
  // how many queries a run measures.
  for (const t of roundRobin(qs)) {
    if (query.length >= Math.max(queries, 1000)) break;
    if (!inIndexSide.has(t) && !picked.has(t)) { picked.add(t); query.push(t); }
  }
  const index: string[] = [];
  for (const t of [...indexSide, ...roundRobin(qs)]) {
    if (index.length >= entries) break;
    if (!picked.has(t)) { picked.add(t); index.push(t); }
  }
  // The data holds about 52k distinct questions; beyond that, two-question prompts made of two of them (drawn at random,
  // fixed seed), as people send them, embedded like any other text.
  const single = index.length;
  const rand = seededRandom(7);
  for (let guard = 0; index.length < entries && single > 1 && guard < entries * 2; guard++) {
    const t = `${index[Math.floor(rand() * single)]} ${index[Math.floor(rand() * single)]}`;
    if (!picked.has(t)) { picked.add(t); index.push(t); }
  }
  return { index, queries: query.slice(0, queries) };
}

/** Embeds with USE-lite through the on-disk cache; stops computing new vectors when the budget runs out. */
async function embedCached(texts: string[], budgetS: number): Promise<{ vectors: Array<Float32Array | undefined>; embedder: string }> {
  const embedder = await UseLiteEmbedder.load();
  try {
    const store = new EmbeddingStore(path.join(os.tmpdir(), 'switchyard-bench-cache-vectors'), embedder.id, embedder.dim);
    const digests = texts.map(textDigest);
    const known = await store.lookup(digests);
    const out = digests.map((d) => known.get(d.toString('hex')));
    const deadline = performance.now() + budgetS * 1000;
    let fresh: Array<{ digest: Buffer; vector: Float32Array }> = [];
    for (let i = 0; i < texts.length && performance.now() < deadline; i++) {
      if (out[i] !== undefined) continue;
      const batch: number[] = [];
      for (let j = i; j < texts.length && batch.length < 32; j++) if (out[j] === undefined) batch.push(j);
      const vs = await embedder.embed(batch.map((j) => texts[j]));
      batch.forEach((j, b) => { out[j] = vs[b]; fresh.push({ digest: digests[j], vector: vs[b] }); });
      if (fresh.length >= 1024) { await store.append(fresh); fresh = []; }
    }
    await store.append(fresh);
    return { vectors: out, embedder: embedder.space };
  } finally {
    await embedder.close();
  }
}

type RealWorkload = Workload & { wanted: number };

async function realWorkload(dataDir: string, n: number, q: number, budgetS: number): Promise<RealWorkload | undefined> {
  const texts = await realTexts(dataDir, n, q);
  if (texts === undefined) return undefined;
  // Queries first, so a short budget still yields the full query set; entries are a prefix of the mixed order.
  const { vectors: vs, embedder } = await embedCached([...texts.queries, ...texts.index], budgetS);
  const queries = vs.slice(0, texts.queries.length);
  // Out of embedding budget before the queries were done: nothing to measure this time.
  if (queries.some((v) => v === undefined)) return { index: [], queries: [], wanted: texts.index.length };
  const index: Float32Array[] = [];
  for (const v of vs.slice(texts.queries.length)) { if (v === undefined) break; index.push(v); }
  return { index, queries: queries as Float32Array[], wanted: texts.index.length, embedder };
}

// ---------------------------------------------------------------------------------------------------------------------
// Measurement

/** The exact best cosine per query: hnswlib's brute-force index (a linear scan in native code). */
function exactBest(index: Float32Array[], queries: Float32Array[]): number[] {
  const bf = new hnswlib.BruteforceSearch('ip', DIM);
  bf.initIndex(index.length);
  const a = Array.from({ length: DIM }, () => 0);
  const load = (v: Float32Array): number[] => { for (let i = 0; i < DIM; i++) a[i] = v[i]; return a; };
  index.forEach((v, i) => bf.addPoint(load(v), i));
  return queries.map((q) => 1 - bf.searchKnn(load(q), 1).distances[0]);
}

async function measure(wl: Workload, opts: CacheBenchOptions, prefix: string, rssClean: boolean): Promise<Record<string, number>> {
  const n = wl.index.length;
  const index = { M: opts.M, ef_construction: opts.efConstruction, ef_search: opts.efSearch };
  await gc();
  const rss0 = process.memoryUsage().rss;
  const js0 = jsBytes();
  const cache = await SemanticCache.create({
    dim: DIM, logger: pino({ level: 'silent' }), config: { max_entries: n + 1, max_memory_mb: 100_000, index }, embedderSpace: wl.embedder,
  });
  const ctx = {
    op: 'chat' as const, model: 'm', caller: { ...ANONYMOUS, virtualKeyId: 'bench' },
    body: { model: 'm', messages: [{ role: 'user', content: 'q' }] },
  };
  const base = requestKey(ctx, cache.config) as RequestKey;
  const reply = fromJsonReply('chat', {
    kind: 'json', status: 200,
    body: { id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: 'stop' }] },
  })!;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    // A fresh array per entry, as the gateway hands the cache a new vector per request.
    const info = { model: 'm', intent: 'none', ttlS: 3600, latencyMs: 1 };
    await cache.store({ ...base, exact: `k${i}`, text: `question ${i}` }, wl.index[i].slice(), reply, info);
  }
  const buildMs = performance.now() - t0;
  await gc();
  const rssPerEntry = (process.memoryUsage().rss - rss0) / n;
  const jsPerEntry = (jsBytes() - js0) / n;
  const best = exactBest(wl.index, wl.queries);
  const waited = runQueueClock();
  const pauses: number[] = [];
  const gcWatch = new PerformanceObserver((list) => { for (const e of list.getEntries()) pauses.push(e.duration); });
  gcWatch.observe({ entryTypes: ['gc'] });
  const wall: number[] = [];
  const cpu: number[] = [];
  let correct = 0;
  // Two passes over the queries: more samples for the tail; recall from the first.
  for (let pass = 0; pass < 2; pass++) {
    wl.queries.forEach((v, j) => {
      const w0 = waited();
      const s = performance.now();
      const found = cache.candidates(base.partition, v);
      const ms = performance.now() - s;
      wall.push(ms);
      cpu.push(Math.max(0, ms - (waited() - w0) / 1e6));
      if (pass === 0 && (found[0]?.score ?? -2) >= best[j] - 1e-5) correct++;
    });
  }
  await new Promise((resolve) => setImmediate(resolve));
  gcWatch.disconnect();
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const accounted = cache.memoryBytes;
  await cache.close();
  return {
    [`${prefix}entries`]: n, [`${prefix}queries`]: wl.queries.length,
    [`${prefix}index_dims`]: cache.dim, [`${prefix}M`]: cache.graph.M, [`${prefix}ef_construction`]: cache.graph.efConstruction,
    [`${prefix}ef_search`]: cache.graph.efSearch,
    [`${prefix}build_ms`]: Math.round(buildMs), [`${prefix}inserts_per_s`]: Math.round(n / (buildMs / 1000)),
    [`${prefix}lookup_p50_ms`]: r3(pct(wall, 50)), [`${prefix}lookup_p99_ms`]: r3(pct(wall, 99)),
    [`${prefix}lookup_p50_ms_cpu`]: r3(pct(cpu, 50)), [`${prefix}lookup_p99_ms_cpu`]: r3(pct(cpu, 99)),
    [`${prefix}lookup_max_ms_cpu`]: r3(cpu[cpu.length - 1]),
    [`${prefix}lookup_gc_pauses`]: pauses.length, [`${prefix}lookup_gc_ms`]: r3(pauses.reduce((a, b) => a + b, 0)),
    [`${prefix}recall_at_1`]: correct / wl.queries.length,
    [`${prefix}cache_bytes_per_entry`]: Math.round(accounted / n), [`${prefix}js_bytes_per_entry`]: Math.round(jsPerEntry),
    // Native memory (the HNSW graph) shows only in RSS, which is clean only for the first large build of the process.
    ...(rssClean ? { [`${prefix}rss_bytes_per_entry`]: Math.round(rssPerEntry) } : {}),
  };
}

export async function benchCache(opts: CacheBenchOptions = {}): Promise<Record<string, number>> {
  const n = opts.entries ?? 100_000;
  const q = opts.queries ?? 1000;
  const workloads = opts.workloads ?? ['real', 'stress'];
  const out: Record<string, number> = {};
  const rssBefore = process.memoryUsage().rss;
  const model: SemanticService | undefined = opts.withModel === false ? undefined : await createSemanticService(
    SemanticConfigSchema.parse({ reference_prompts: { watch: false } }), { rootDir: process.cwd(), logger: pino({ level: 'silent' }) },
  );
  const rssModel = process.memoryUsage().rss;

  // Unprefixed: the stress set at the full size (the numbers earlier reports and the speed summary read). First, so its RSS
  // delta is not flattered by memory an earlier phase freed.
  if (workloads.includes('stress')) Object.assign(out, await measure(stressWorkload(n, q), opts, '', true));
  if (workloads.includes('real')) {
    const dataDir = opts.dataDir ?? path.resolve('..', 'shared', 'data');
    const wl = await realWorkload(dataDir, n, q, opts.embedBudgetS ?? (n <= 20_000 ? 45 : 120));
    out.real_data = wl === undefined ? 0 : 1;
    if (wl !== undefined) {
      out.real_entries_wanted = wl.wanted;
      if (wl.index.length > 0) Object.assign(out, await measure(wl, opts, 'real_', !workloads.includes('stress')));
      else out.real_entries = 0;
    }
  }

  const cfg = defaultCacheConfig();
  const ctx = {
    op: 'chat' as const, model: 'm', caller: { ...ANONYMOUS, virtualKeyId: 'bench' },
    body: {
      model: 'm', temperature: 0.3,
      messages: [{ role: 'system', content: 'You are helpful. '.repeat(50) }, { role: 'user', content: 'What is the capital of France? '.repeat(10) }],
    },
  };
  const keyTimes: number[] = [];
  for (let j = 0; j < 2000; j++) { const s = performance.now(); requestKey(ctx, cfg); keyTimes.push(performance.now() - s); }
  keyTimes.sort((a, b) => a - b);
  out.request_key_p50_ms = r3(pct(keyTimes, 50));
  out.request_key_p99_ms = r3(pct(keyTimes, 99));
  out.rss_start_mb = mb(rssBefore);
  if (model) out.rss_with_model_mb = mb(rssModel);
  await model?.close();
  // The memory target (RSS with the model loaded and 100k entries), in a process of its own: ./cache-rss.ts.
  if (opts.withModel !== false && n >= 100_000) {
    try {
      const r = await measureCacheRss(100_000, opts.dataDir ?? path.resolve('..', 'shared', 'data'));
      out.rss_model_100k_entries_mb = r.rss_model_and_entries_mb;
      out.rss_model_only_mb = r.rss_model_mb;
      out.rss_bytes_per_entry_100k = r.entries_rss_bytes_each;
    } catch (err) {
      // The other figures stand without it; the report shows the target as not measured.
      console.error(`cache bench: the memory measurement failed: ${(err as Error).message}`);
    }
  }
  return out;
}

export default benchCache;

if (import.meta.url === `file://${process.argv[1]}`) {
  // node --import tsx bench/cache.ts [entries] [--queries N] [--M N] [--ef-construction N] [--ef N] [--only real|stress]
  //   [--data DIR] [--embed-budget SECONDS] [--no-model]
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const num = (name: string): number | undefined => (flag(name) === undefined ? undefined : Number(flag(name)));
  const only = flag('--only') as 'real' | 'stress' | undefined;
  benchCache({
    entries: args[0] !== undefined && !args[0].startsWith('--') ? Number(args[0]) : undefined,
    queries: num('--queries'), M: num('--M'), efConstruction: num('--ef-construction'), efSearch: num('--ef'),
    dataDir: flag('--data'), embedBudgetS: num('--embed-budget'), workloads: only ? [only] : undefined,
    withModel: !args.includes('--no-model'),
  }).then((r) => console.log(JSON.stringify(r, null, 2)), (err) => { console.error(err); process.exitCode = 1; });
}
