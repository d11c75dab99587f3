/**
 * The memory target of the semantic features, measured as the issue states it: the RSS of a process with the default model
 * loaded (embedder and reference prompts, as the gateway starts them) and 100k entries in the semantic cache. Runs in a
 * child process of its own (`measureCacheRss`), so nothing the other benchmarks allocate counts, and holds nothing but
 * what the gateway would: each entry's vector is drawn, handed to the cache and dropped (as a request's embedding is).
 * The embedder's worker threads (2 on 2 cores, as `concurrency: auto` sizes them) are in the figure: RSS is the process's.
 * The model has served traffic first (640 texts of 3-120 words, 64 at a time): onnxruntime's buffers grow to the largest
 * batches it has run, so an idle model would understate what a serving gateway holds.
 *
 * Entries: the real question texts of the evaluation data (../shared/data; beyond its ~52k distinct questions, two-question
 * prompts) or, without the data, numbered synthetic questions; synthetic clustered 512-d unit vectors (the index's memory
 * does not depend on the values); one chat.completion reply per entry with a 400-character answer and usage, about 0.7 KB
 * serialised. All in one partition, default cache settings except `max_memory_mb`, raised so all 100k stay.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { pino } from 'pino';
import { SemanticCache } from '../src/cache/semantic-cache.js';
import { requestKey, type RequestKey } from '../src/cache/request-key.js';
import { fromJsonReply } from '../src/cache/reply.js';
import { ANONYMOUS } from '../src/pipeline/context.js';
import { SemanticConfigSchema } from '../src/semantic/config.js';
import { createSemanticService } from '../src/semantic/service.js';
import { seededRandom } from '../src/util/seeded-random.js';
import { realTexts } from './cache.js';

const DIM = 512;
const mb = (b: number): number => Math.round(b / 1e5) / 10;

async function gc(): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const full = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    full();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function vectors(): () => Float32Array {
  const rand = seededRandom(42);
  const unit = (v: Float32Array): Float32Array => {
    let n = 0;
    for (const x of v) n += x * x;
    n = Math.sqrt(n);
    for (let i = 0; i < v.length; i++) v[i] /= n;
    return v;
  };
  const centres = Array.from({ length: 200 }, () => unit(Float32Array.from({ length: DIM }, () => rand() - 0.5)));
  return () => {
    const c = centres[Math.floor(rand() * centres.length)];
    return unit(Float32Array.from({ length: DIM }, (_, i) => c[i] + (rand() - 0.5) * 0.12));
  };
}

/** The measurement itself (in this process): numbers in MB unless named otherwise. */
export async function cacheRss(entries: number, dataDir: string): Promise<Record<string, number>> {
  const texts = (await realTexts(dataDir, entries, 0))?.index;
  await gc();
  const rssStart = process.memoryUsage().rss;
  const model = await createSemanticService(
    SemanticConfigSchema.parse({ reference_prompts: { watch: false } }), { rootDir: process.cwd(), logger: pino({ level: 'silent' }) },
  );
  await model.settled();
  for (let k = 0; k < 10; k++) {
    await Promise.all(Array.from({ length: 64 }, (_, i) => model.embed(`question ${k} ${i} ${'about a word '.repeat((i * 7) % 40)}`)));
  }
  await gc();
  const rssModel = process.memoryUsage().rss;
  const heapModel = process.memoryUsage().heapUsed;
  const cache = await SemanticCache.create({
    dim: DIM, embedderSpace: model.embedderId, logger: pino({ level: 'silent' }), config: { max_entries: entries, max_memory_mb: 100_000 },
  });
  const ctx = {
    op: 'chat' as const, model: 'm', caller: { ...ANONYMOUS, virtualKeyId: 'bench' },
    body: { model: 'm', messages: [{ role: 'user', content: 'q' }] },
  };
  const base = requestKey(ctx, cache.config) as RequestKey;
  const draw = vectors();
  const answer = 'The answer, in a few sentences. '.repeat(13).slice(0, 400);
  for (let i = 0; i < entries; i++) {
    const body = {
      id: `chatcmpl-${i.toString(36).padStart(12, '0')}`, object: 'chat.completion', created: 1_780_000_000 + i, model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: `${answer}${i}` }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 20, completion_tokens: 90, total_tokens: 110 },
    };
    const reply = fromJsonReply('chat', { kind: 'json', status: 200, body, raw: Buffer.from(JSON.stringify(body)) })!;
    const text = texts?.[i] ?? `synthetic question number ${i} about something`;
    await cache.store({ ...base, exact: `k${i}`, text }, draw(), reply, { model: 'm', intent: 'none', ttlS: 3600, latencyMs: 900 });
  }
  await gc();
  const m = process.memoryUsage();
  const out = {
    rss_process_start_mb: mb(rssStart), rss_model_mb: mb(rssModel), rss_model_and_entries_mb: mb(m.rss),
    entries: cache.entries, real_texts: texts === undefined ? 0 : 1,
    entries_rss_bytes_each: Math.round((m.rss - rssModel) / cache.entries),
    heap_used_mb: mb(m.heapUsed), heap_entries_bytes_each: Math.round((m.heapUsed - heapModel) / cache.entries), external_mb: mb(m.external), array_buffers_mb: mb(m.arrayBuffers),
    cache_accounted_mb: mb(cache.memoryBytes),
  };
  await cache.close();
  await model.close();
  return out;
}

/** Runs `cacheRss` in a fresh child process (the same runtime flags, so it works from dist/ and under tsx). */
export function measureCacheRss(entries: number, dataDir: string, timeoutMs = 420_000): Promise<Record<string, number>> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, self, String(entries), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(last) as Record<string, number>);
      } catch (err) {
        reject(new Error(`bench/cache-rss: ${code === null ? `stopped after ${timeoutMs / 1000} s` : (err as Error).message}`));
      }
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // node --import tsx bench/cache-rss.ts [entries] [dataDir]
  const entries = Number(process.argv[2] ?? 100_000);
  const dataDir = process.argv[3] ?? path.resolve('..', 'shared', 'data');
  cacheRss(entries, dataDir).then((r) => console.log(JSON.stringify(r)), (err) => { console.error(err); process.exitCode = 1; });
}
