/**
 * Embeddings per second of the gateway's embedder (worker pool and batcher, default settings, LRU off) at several values of
 * `semantic.embedder.max_batch_tokens`, one embedder per value in one process, in alternating rounds (the order reversed
 * every other round) so every value sees the same machine load; medians over the rounds. 64 concurrent callers, one text
 * each. Texts: the cache bench's real questions (`real`: single questions, two-question prompts beyond the 52k distinct
 * ones) or four of them joined (`long`). The memory side is bench/cache-rss.ts.
 *
 *   node dist/bench/embed-budget.js [real|long] [rounds] [budget ...]
 */
import path from 'node:path';
import { SemanticConfigSchema } from '../src/semantic/config.js';
import { createEmbedder, type BatchingEmbedder } from '../src/semantic/embedder/index.js';
import { realTexts } from './cache.js';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
};

export async function embedBudget(mix: 'real' | 'long', rounds: number, budgets: number[], dataDir: string): Promise<Record<string, number>> {
  const texts = (await realTexts(dataDir, 60_000, 0))?.index;
  if (texts === undefined) throw new Error(`no evaluation data in ${dataDir}`);
  const pick = (k: number): string => (mix === 'real'
    ? texts[(k * 7919) % texts.length]
    : [0, 1, 2, 3].map((j) => texts[(k * 7919 + j * 104_729) % texts.length]).join(' '));
  const base = SemanticConfigSchema.parse({}).embedder;
  const embedders = new Map<number, BatchingEmbedder>();
  for (const b of budgets) embedders.set(b, await createEmbedder({ ...base, max_batch_tokens: b, lru_size: 0 }, process.cwd()));
  const rates = new Map<number, number[]>(budgets.map((b) => [b, []]));
  const perRound = mix === 'real' ? 1536 : 384;
  let k = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      for (const b of r % 2 === 0 ? budgets : [...budgets].reverse()) {
        const e = embedders.get(b)!;
        let next = 0;
        const t0 = performance.now();
        await Promise.all(Array.from({ length: 64 }, async () => {
          while (next < perRound) {
            next++;
            await e.embedOne(pick(k++));
          }
        }));
        rates.get(b)!.push(perRound / ((performance.now() - t0) / 1000));
      }
    }
  } finally {
    for (const e of embedders.values()) await e.close();
  }
  return Object.fromEntries(budgets.map((b) => [`${mix}_embed_per_s_t${b}`, Math.round(median(rates.get(b)!))]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [mix = 'real', rounds = '6', ...budgets] = process.argv.slice(2);
  embedBudget(mix === 'long' ? 'long' : 'real', Number(rounds), budgets.length > 0 ? budgets.map(Number) : [512, 1024, 1_000_000], path.resolve('..', 'shared', 'data'))
    .then((r) => console.log(JSON.stringify(r)), (err) => { console.error(err); process.exitCode = 1; });
}
