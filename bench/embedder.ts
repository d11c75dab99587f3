/**
 * USE-lite's int8 variant (the default) against the float model it approximates, side by side in one process: embeddings
 * per second and process CPU time per embedding at batch 1 and 16, with 1 and 2 intra-op threads, in alternating rounds
 * (float, int8, float, int8, ...) so both see the same machine load; medians over the rounds. Also how close the int8
 * vectors are to the float ones (cosine on real sentences) and whether a text's int8 vector depends on its batch mates.
 * Quality side by side: the `eval_clinc150_10` / `cache_eval*` sections and their `_float32` twins.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { dot } from '../src/semantic/embedder/types.js';
import { UseLiteEmbedder, type UseLitePrecision } from '../src/semantic/embedder/use-lite.js';
import { readLabelled } from '../src/semantic/labelled.js';

export interface EmbedderBenchOptions {
  dataDir?: string;
  /** Alternating rounds per setting (default 5). */
  rounds?: number;
  /** Texts embedded per round at batch 1 (batch 16 embeds 4× as many). */
  textsPerRound?: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

async function sentences(dataDir: string): Promise<string[]> {
  const file = path.join(dataDir, 'clinc150', 'val.jsonl');
  if (existsSync(file)) return (await readLabelled(file)).map((r) => r.text);
  return Array.from({ length: 3000 }, (_, i) => `request number ${i}: please reset the password of account ${i % 97} before friday`);
}

/** Embeds `count` texts in batches of `batch`; wall-clock rate and process CPU microseconds per text. */
async function measure(e: UseLiteEmbedder, texts: string[], batch: number, count: number, from: number): Promise<{ perS: number; cpuUs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let done = 0; done < count; done += batch) {
    const at = (from + done) % (texts.length - batch);
    await e.embed(texts.slice(at, at + batch));
  }
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { perS: count / wallS, cpuUs: (cpu.user + cpu.system) / count };
}

export async function benchEmbedder(opts: EmbedderBenchOptions = {}): Promise<Record<string, number>> {
  const texts = await sentences(opts.dataDir ?? path.resolve('..', 'shared', 'data'));
  const rounds = opts.rounds ?? 5;
  const perRound = opts.textsPerRound ?? 100;
  const out: Record<string, number> = { rounds, texts_per_round_batch1: perRound, texts_per_round_batch16: perRound * 4 };

  for (const threads of [1, 2]) {
    const embedders = new Map<UseLitePrecision, UseLiteEmbedder>();
    for (const p of ['float32', 'int8'] as const) embedders.set(p, await UseLiteEmbedder.load({ runtime: 'onnx', threads, precision: p }));
    try {
      for (const batch of [1, 16]) {
        const count = batch === 1 ? perRound : perRound * 4;
        const got = new Map<UseLitePrecision, { perS: number[]; cpuUs: number[] }>([['float32', { perS: [], cpuUs: [] }], ['int8', { perS: [], cpuUs: [] }]]);
        for (const [, e] of embedders) await measure(e, texts, batch, batch * 4, 0); // warm-up
        for (let r = 0; r < rounds; r++) {
          for (const [p, e] of embedders) {
            const m = await measure(e, texts, batch, count, r * count);
            got.get(p)!.perS.push(m.perS);
            got.get(p)!.cpuUs.push(m.cpuUs);
          }
        }
        for (const [p, g] of got) {
          out[`${p}_t${threads}_b${batch}_per_s`] = Math.round(median(g.perS));
          out[`${p}_t${threads}_b${batch}_cpu_us_per_text`] = Math.round(median(g.cpuUs));
        }
        // Per-round speed-up (same round, same load), median over rounds.
        const f = got.get('float32')!, q = got.get('int8')!;
        out[`int8_speedup_t${threads}_b${batch}`] = round(median(q.perS.map((v, i) => v / f.perS[i])), 2);
      }
    } finally {
      for (const e of embedders.values()) await e.close();
    }
  }

  // Closeness on real sentences, and batch independence (each text alone against the same text in batches of 32).
  const float = await UseLiteEmbedder.load({ runtime: 'onnx', threads: 1, precision: 'float32' });
  const int8 = await UseLiteEmbedder.load({ runtime: 'onnx', threads: 1, precision: 'int8' });
  try {
    const sample = texts.slice(0, 640);
    const batched: Float32Array[] = [];
    const floats: Float32Array[] = [];
    for (let i = 0; i < sample.length; i += 32) {
      batched.push(...(await int8.embed(sample.slice(i, i + 32))));
      floats.push(...(await float.embed(sample.slice(i, i + 32))));
    }
    const cos = sample.map((_, i) => dot(batched[i], floats[i])).sort((a, b) => a - b);
    out.int8_float_cosine_min = round(cos[0], 5);
    out.int8_float_cosine_p01 = round(cos[Math.floor(cos.length * 0.01)], 5);
    out.int8_float_cosine_median = round(median(cos), 5);
    let worst = 1;
    for (let i = 0; i < 64; i++) worst = Math.min(worst, dot((await int8.embed([sample[i]]))[0], batched[i]));
    out.int8_alone_vs_batched_cosine_min = round(worst, 6);
  } finally {
    await float.close();
    await int8.close();
  }
  return out;
}
