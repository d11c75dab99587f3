/**
 * Semantic benchmarks: embedder latency and batched throughput, service start-up (cold and from the disk cache),
 * embed+classify latency and throughput, and HNSW build/query/recall at 10k and 100k vectors. Returns plain numbers.
 * Uses CLINC150 from ../shared/data when present for realistic text, else generated sentences.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { SemanticConfigSchema } from '../src/semantic/config.js';
import { BatchingEmbedder } from '../src/semantic/embedder/batching.js';
import { parallelismOf } from '../src/semantic/embedder/index.js';
import { UseLiteEmbedder } from '../src/semantic/embedder/use-lite.js';
import { readLabelled } from '../src/semantic/labelled.js';
import { createSemanticService } from '../src/semantic/service.js';
import { VectorIndex } from '../src/semantic/vector-index.js';

export interface SemanticBenchOptions {
  /** Texts embedded per threads/concurrency combination (default 1000). */
  sweepTexts?: number;
  dataDir?: string;
  hnswSizes?: number[];
  /** Reference prompts for the start-up measurement. */
  startupPrompts?: number;
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

async function texts(dataDir: string, n: number): Promise<{ rows: Array<{ text: string; label: string }>; real: boolean }> {
  const file = path.join(dataDir, 'clinc150', 'train.jsonl');
  if (existsSync(file)) return { rows: (await readLabelled(file)).slice(0, n), real: true };
  const words = 'account order refund python function poem story weather music travel card bank reset password recipe'.split(' ');
  const rows = Array.from({ length: n }, (_, i) => ({
    text: `request ${i}: ${words[i % words.length]} ${words[(i * 7) % words.length]} ${words[(i * 13) % words.length]} please`,
    label: `l${i % 150}`,
  }));
  return { rows, real: false };
}

/** Clustered unit vectors: points around 1,000 random centres, so the index sees structure like real embeddings. */
function clustered(n: number, dim: number, seed = 3): Float32Array[] {
  let s = seed;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  const centres = Array.from({ length: 1000 }, () => Float32Array.from({ length: dim }, r));
  return Array.from({ length: n }, (_, i) => {
    const c = centres[i % centres.length];
    const v = Float32Array.from({ length: dim }, (_, d) => c[d] + 0.6 * r());
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm);
    return v.map((x) => x / norm);
  });
}

async function hnsw(n: number, dim: number): Promise<Record<string, number>> {
  const vectors = clustered(n + 200, dim);
  const queries = vectors.splice(n, 200);
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const index = new VectorIndex({ dim, M: 16, efConstruction: 200, efSearch: 64, initialCapacity: n });
  vectors.forEach((v, i) => index.add(i, v));
  const buildMs = performance.now() - t0;
  const rss1 = process.memoryUsage().rss;
  const lat: number[] = [];
  let hits = 0;
  for (const q of queries) {
    const t = performance.now();
    const got = index.search(q, 1)[0];
    lat.push(performance.now() - t);
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < vectors.length; i++) {
      let sc = 0;
      const v = vectors[i];
      for (let d = 0; d < dim; d++) sc += q[d] * v[d];
      if (sc > bestScore) {
        bestScore = sc;
        best = i;
      }
    }
    if (got?.label === best) hits++;
  }
  return {
    [`hnsw_${n}_build_s`]: round(buildMs / 1000, 2),
    [`hnsw_${n}_query_p50_ms`]: round(pct(lat, 0.5)),
    [`hnsw_${n}_query_p99_ms`]: round(pct(lat, 0.99)),
    [`hnsw_${n}_recall_at_1`]: round(hits / queries.length),
    [`hnsw_${n}_bytes_per_entry`]: Math.round((rss1 - rss0) / n),
  };
}

export async function benchSemantic(opts: SemanticBenchOptions = {}): Promise<Record<string, number>> {
  const dataDir = opts.dataDir ?? path.resolve('..', 'shared', 'data');
  const out: Record<string, number> = {};
  const { rows, real } = await texts(dataDir, 4000);
  out.real_text = real ? 1 : 0;

  // Embedder: single queries, then 64 concurrent callers through the batching layer.
  const embedder = await UseLiteEmbedder.load();
  for (const r of rows.slice(0, 10)) await embedder.embed([r.text]);
  const single: number[] = [];
  for (const r of rows.slice(10, 210)) {
    const t = performance.now();
    await embedder.embed([r.text]);
    single.push(performance.now() - t);
  }
  out.embed_single_p50_ms = round(pct(single, 0.5));
  out.embed_single_p99_ms = round(pct(single, 0.99));
  out.embed_runtime_onnx = embedder.runtime === 'onnx' ? 1 : 0;
  // The same single queries on the fallback runtime (TF.js WASM), for comparison.
  const tfjs = await UseLiteEmbedder.load({ runtime: 'tfjs' });
  const singleTfjs: number[] = [];
  for (const r of rows.slice(10, 110)) {
    const t = performance.now();
    await tfjs.embed([r.text]);
    singleTfjs.push(performance.now() - t);
  }
  await tfjs.close();
  out.embed_single_tfjs_p50_ms = round(pct(singleTfjs, 0.5));
  const batching = new BatchingEmbedder(embedder, { windowMs: 0, maxBatch: 32, maxQueue: 100_000, lruSize: 0, maxInputChars: 2000 });
  const pool = rows.slice(300, 1300).map((r) => r.text);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < pool.length) await batching.embedOne(pool[next++]);
    }),
  );
  out.embed_concurrent64_per_s = Math.round(pool.length / ((performance.now() - t0) / 1000));
  out.embed_batches = batching.stats.batches;
  await batching.close();

  // Throughput against intra-op threads and model calls at once (64 concurrent callers, distinct texts), and the
  // combination `auto` picks on this machine.
  const cores = os.availableParallelism();
  const auto = parallelismOf({ threads: 'auto', concurrency: 'auto' }, cores);
  out.cores = cores;
  out.embed_auto_threads = auto.threads;
  out.embed_auto_concurrency = auto.concurrency;
  const combos = new Map<string, { threads: number; concurrency: number }>();
  for (const threads of [1, 2, 4].filter((t) => t <= Math.max(2, cores))) {
    for (const concurrency of [1, 2].filter((c) => c * threads <= Math.max(2, cores * 2))) combos.set(`t${threads}_c${concurrency}`, { threads, concurrency });
  }
  const sweep = pool.slice(0, opts.sweepTexts ?? 1000);
  for (const [name, p] of combos) {
    const inner = await UseLiteEmbedder.load({ threads: p.threads });
    const b = new BatchingEmbedder(inner, { windowMs: 0, maxBatch: 32, maxQueue: 100_000, lruSize: 0, maxInputChars: 2000, concurrency: p.concurrency });
    for (const r of rows.slice(0, 64)) await b.embedOne(r.text); // warm-up
    let i = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (i < sweep.length) await b.embedOne(sweep[i++]);
    }));
    out[`embed_per_s_${name}`] = Math.round(sweep.length / ((performance.now() - start) / 1000));
    await b.close();
  }

  // Service start-up with N reference prompts: cold (empty disk cache), then warm (from the disk cache).
  const n = opts.startupPrompts ?? 1500;
  const root = await mkdtemp(path.join(os.tmpdir(), 'semantic-bench-'));
  try {
    const refs = path.join(root, 'reference-prompts');
    await mkdir(refs);
    const byLabel = new Map<string, string[]>();
    for (const r of rows.slice(0, n)) byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r.text]);
    for (const [label, ex] of byLabel) await writeFile(path.join(refs, `${label}.yaml`), JSON.stringify({ name: label, examples: ex }));
    const config = SemanticConfigSchema.parse({ reference_prompts: { watch: false } });
    const logger = pino({ level: 'silent' });
    let t = performance.now();
    let svc = await createSemanticService(config, { rootDir: root, logger });
    out.startup_cold_s = round((performance.now() - t) / 1000, 2);
    await svc.close();
    t = performance.now();
    svc = await createSemanticService(config, { rootDir: root, logger });
    out.startup_disk_cache_s = round((performance.now() - t) / 1000, 2);
    await svc.settled();
    out.startup_head_trained_s = round((performance.now() - t) / 1000, 2);
    out.startup_prompts = n;

    // embed + classify, one request at a time (distinct texts, so no LRU hits), then 64 concurrent requests.
    const queries = rows.slice(1500, 4000).map((r) => r.text);
    const seq: number[] = [];
    const cls: number[] = [];
    for (const q of queries.slice(0, 200)) {
      const t1 = performance.now();
      const v = await svc.embed(q);
      const t2 = performance.now();
      svc.classify(v);
      const t3 = performance.now();
      seq.push(t3 - t1);
      cls.push(t3 - t2);
    }
    out.embed_classify_p50_ms = round(pct(seq, 0.5));
    out.embed_classify_p99_ms = round(pct(seq, 0.99));
    out.classify_p50_ms = round(pct(cls, 0.5));
    out.classify_p99_ms = round(pct(cls, 0.99));
    const conc = queries.slice(200);
    let i = 0;
    const t4 = performance.now();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (i < conc.length) svc.classify(await svc.embed(conc[i++]));
      }),
    );
    out.classified_concurrent64_per_s = Math.round(conc.length / ((performance.now() - t4) / 1000));
    out.rss_mb = Math.round(process.memoryUsage().rss / 2 ** 20);
    await svc.close();
  } finally {
    await rm(root, { recursive: true, force: true });
  }

  for (const size of opts.hnswSizes ?? [10_000, 100_000]) Object.assign(out, await hnsw(size, 512));
  return out;
}
