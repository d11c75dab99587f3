/**
 * Cache benchmarks: semantic lookup latency (excluding the embedding) and recall@1 against exact search with N entries in
 * one partition, plus exact-key hashing cost. Vectors are synthetic clustered unit vectors (512-d, like USE-lite's).
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { SemanticCache } from '../src/cache/semantic-cache.js';
import { requestKey, type RequestKey } from '../src/cache/request-key.js';
import { fromJsonReply } from '../src/cache/reply.js';
import { ANONYMOUS } from '../src/pipeline/context.js';
import { SemanticConfigSchema } from '../src/semantic/config.js';
import { createSemanticService, type SemanticService } from '../src/semantic/service.js';
import { seededRandom } from '../src/util/seeded-random.js';


function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/**
 * `withModel`: load the default embedder and reference prompts first, so the reported RSS is the gateway's footprint with
 * the default model and N cache entries.
 */
export async function benchCache(opts: { entries?: number; queries?: number; dim?: number; efSearch?: number; withModel?: boolean } = {}): Promise<Record<string, number>> {
  const n = opts.entries ?? 100_000;
  const rssBefore = process.memoryUsage().rss;
  const model: SemanticService | undefined = opts.withModel === false ? undefined : await createSemanticService(
    SemanticConfigSchema.parse({ reference_prompts: { watch: false } }), { rootDir: process.cwd(), logger: pino({ level: 'silent' }) },
  );
  const rssModel = process.memoryUsage().rss;
  const q = opts.queries ?? 1000;
  const dim = opts.dim ?? 512;
  const rand = seededRandom(42);
  const centres = Array.from({ length: 200 }, () => unit(Float32Array.from({ length: dim }, () => rand() - 0.5)));
  const sample = (): Float32Array => {
    const c = centres[Math.floor(rand() * centres.length)];
    return unit(Float32Array.from({ length: dim }, (_, i) => c[i] + (rand() - 0.5) * 0.12));
  };
  const cache = await SemanticCache.create({
    dim, logger: pino({ level: 'silent' }),
    config: { max_entries: n + 1, max_memory_mb: 100_000, index: { M: 16, ef_construction: 100, ef_search: opts.efSearch ?? 64 } },
  });
  const ctx = { op: 'chat' as const, model: 'm', caller: { ...ANONYMOUS, virtualKeyId: 'bench' }, body: { model: 'm', messages: [{ role: 'user', content: 'q' }] } };
  const base = requestKey(ctx, cache.config) as RequestKey;
  const reply = fromJsonReply('chat', { kind: 'json', status: 200, body: { id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: 'stop' }] } })!;
  const vectors: Float32Array[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const v = sample();
    vectors.push(v);
    await cache.store({ ...base, exact: `k${i}`, text: `question ${i}` }, v, reply, { model: 'm', intent: 'none', ttlS: 3600, latencyMs: 1 });
  }
  const buildMs = performance.now() - t0;
  const times: number[] = [];
  let correct = 0;
  for (let j = 0; j < q; j++) {
    const v = sample();
    const s = performance.now();
    const found = cache.candidates(base.partition, v);
    times.push(performance.now() - s);
    let best = -1, bestI = -1;
    for (let i = 0; i < n; i++) {
      let d = 0;
      const w = vectors[i];
      for (let k = 0; k < dim; k++) d += v[k] * w[k];
      if (d > best) { best = d; bestI = i; }
    }
    if (found[0]?.entry.meta.key === `k${bestI}`) correct++;
  }
  times.sort((a, b) => a - b);
  const keyTimes: number[] = [];
  const big = { ...ctx, body: { ...ctx.body, temperature: 0.3, messages: [{ role: 'system', content: 'You are helpful. '.repeat(50) }, { role: 'user', content: 'What is the capital of France? '.repeat(10) }] } };
  for (let j = 0; j < 2000; j++) { const s = performance.now(); requestKey(big, cache.config); keyTimes.push(performance.now() - s); }
  keyTimes.sort((a, b) => a - b);
  vectors.length = 0;
  (globalThis as { gc?: () => void }).gc?.();
  const rssLoaded = process.memoryUsage().rss;
  const cacheBytes = cache.memoryBytes;
  await cache.close();
  await model?.close();
  const mb = (b: number): number => Math.round(b / 1e5) / 10;
  return {
    entries: n, build_ms: Math.round(buildMs), inserts_per_s: Math.round(n / (buildMs / 1000)),
    lookup_p50_ms: pct(times, 50), lookup_p99_ms: pct(times, 99),
    recall_at_1: correct / q, request_key_p50_ms: pct(keyTimes, 50), request_key_p99_ms: pct(keyTimes, 99),
    cache_accounted_mb: mb(cacheBytes), cache_bytes_per_entry: Math.round(cacheBytes / n),
    rss_start_mb: mb(rssBefore), ...(model ? { rss_with_model_mb: mb(rssModel) } : {}), rss_with_model_and_entries_mb: mb(rssLoaded),
  };
}

export default benchCache;

if (import.meta.url === `file://${process.argv[1]}`) {
  const entries = Number(process.argv[2] ?? 100_000);
  benchCache({ entries }).then((r) => console.log(JSON.stringify(r, null, 2)), (err) => { console.error(err); process.exitCode = 1; });
}
