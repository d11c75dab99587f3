/**
 * Cascade benchmark: cost and latency of cascading routing against always-cheap and always-strong, on the MT-Bench and
 * Vicuna prompt sets (../shared/data/prompts). Upstreams are simulators on loopback: the cheap one (fast, cheap) refuses a
 * deterministic 30% of prompts (a shaping upstream rewrites those prompts into a refusal, chosen by a hash of the prompt);
 * the strong one is slower and ~16x dearer. Cost is computed from every upstream call the simulators received (their
 * usage is word counts) at gpt-4o-mini / gpt-4o list prices, so it counts every tier a cascade tried.
 * Strategies: always_cheap, always_strong, cascade (cheap → strong on a failed refusal check), complexity (simple queries
 * cascade, the rest go straight to strong). Also time to first byte of streamed replies (buffered cascade vs direct).
 * Run: node --import tsx -e "import('./bench/cascade.ts').then(async m => console.log(JSON.stringify(await m.default(), null, 2)))"
 * Optional argument / env: CASCADE_BENCH_DATA=<data dir> (default ../shared/data). Skips cleanly when the prompts are absent.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { detectRefusal } from '../src/cascade/checks/refusal.js';
import { estimateComplexity } from '../src/cascade/complexity.js';
import { validateConfig } from '../src/config/load.js';
import { startGateway } from '../src/gateway.js';
import { startSimulator } from '../src/simulator/index.js';
import { wordCount } from '../src/simulator/text.js';
import type { Simulator } from '../src/simulator/types.js';
import { lastUser, startShapingUpstream } from '../test/cascade/shaping-upstream.js';

const REFUSAL = "I'm sorry, but I can't help with that request.";
const FAIL_SHARE = 30; // percent of prompts the cheap tier refuses
/** USD per million tokens. */
const PRICES: Record<string, { input: number; output: number }> = { cheap: { input: 0.15, output: 0.6 }, strong: { input: 2.5, output: 10 } };
const CONCURRENCY = 4;

interface Prompt { text: string; label: string }

async function loadPrompts(dataDir: string): Promise<Prompt[] | undefined> {
  const out: Prompt[] = [];
  for (const f of ['mt_bench.jsonl', 'vicuna_bench.jsonl']) {
    const file = path.join(dataDir, 'prompts', f);
    if (!existsSync(file)) return undefined;
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      if (line.trim() === '') continue;
      const row = JSON.parse(line) as { text: string; label: string };
      out.push({ text: row.text, label: `${f.startsWith('mt') ? 'mt' : 'vicuna'}:${row.label}` });
    }
  }
  return out;
}

const refusesCheaply = (text: string): boolean => createHash('sha256').update(text).digest()[0]! % 100 < FAIL_SHARE;

function costOf(sim: Simulator, from: number): number {
  const price = PRICES[sim.name]!;
  let usd = 0;
  for (const r of sim.requests.slice(from)) {
    const body = r.body;
    if (!body || !Array.isArray(body.messages)) continue;
    const prompt = (body.messages as Array<{ content: string }>).reduce((n, m) => n + wordCount(String(m.content)), 0);
    const completion = wordCount(`[${sim.name}] ${lastUser(body)}`);
    usd += (prompt * price.input + completion * price.output) / 1e6;
  }
  return usd;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const r2 = (x: number, d = 1): number => Number(x.toFixed(d));

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

export default async function benchCascade(dataDir = process.env.CASCADE_BENCH_DATA ?? path.resolve('..', 'shared', 'data')): Promise<Record<string, unknown>> {
  const prompts = await loadPrompts(dataDir);
  if (!prompts) return { skipped: 1 };

  const cheapSim = await startSimulator({ protocol: 'openai', name: 'cheap', latencyMs: 40, tokensPerChunkDelayMs: 3 });
  const strongSim = await startSimulator({ protocol: 'openai', name: 'strong', latencyMs: 250, tokensPerChunkDelayMs: 12 });
  const cheap = await startShapingUpstream(cheapSim, (b) => (refusesCheaply(lastUser(b)) ? REFUSAL : undefined));
  const checked = { refusal: true, finish_length: true };
  const cascade = [{ provider: 'cheap', model: 'small', checks: checked }, { provider: 'strong', model: 'big' }];
  const res = validateConfig({
    semantic: { enabled: false },
    governance: { allow_anonymous: true },
    providers: {
      cheap: { kind: 'openai', base_url: cheap.url, keys: [{ id: 'k', value: 'key-k' }], models: ['small'] },
      strong: { kind: 'openai', base_url: strongSim.url, keys: [{ id: 'k', value: 'key-k' }], models: ['big'] },
    },
    rules: [
      { name: 'cascade', priority: 1, cel_expression: 'model == "cascade"', cascade },
      { name: 'simple-cascades', priority: 2, cel_expression: 'model == "by-complexity" && complexity == "simple"', cascade },
      { name: 'rest-to-strong', priority: 3, cel_expression: 'model == "by-complexity"', targets: [{ provider: 'strong', model: 'big' }] },
    ],
  });
  if (!res.ok) throw new Error(res.errors.join('\n'));
  const gw = await startGateway({ config: res.config, logger: pino({ level: 'silent' }), host: '127.0.0.1', port: 0 });

  const ask = async (model: string, text: string, stream = false): Promise<{ ms: number; ttfbMs: number; content: string; escalations: number }> => {
    const t0 = performance.now();
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
      body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: text }] }),
    });
    const escalations = Number(r.headers.get('x-switchyard-cascade-escalations') ?? 0);
    if (!stream) {
      const json = (await r.json()) as { choices: Array<{ message: { content: string } }> };
      return { ms: performance.now() - t0, ttfbMs: performance.now() - t0, content: json.choices[0]!.message.content, escalations };
    }
    const reader = r.body!.getReader();
    let ttfbMs = -1;
    let raw = '';
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (ttfbMs < 0) ttfbMs = performance.now() - t0;
      raw += dec.decode(value, { stream: true });
    }
    return { ms: performance.now() - t0, ttfbMs, content: raw, escalations };
  };

  const out: Record<string, unknown> = { prompts: prompts.length, cheap_fail_share_configured: FAIL_SHARE / 100 };
  try {
    const strategies: Array<[string, string]> = [['always_cheap', 'cheap/small'], ['always_strong', 'strong/big'], ['cascade', 'cascade'], ['complexity', 'by-complexity']];
    for (const [name, model] of strategies) {
      const from = [cheapSim.requests.length, strongSim.requests.length];
      const lat: number[] = [];
      let failed = 0;
      let escalated = 0;
      await pool(prompts, CONCURRENCY, async (p) => {
        const r = await ask(model, p.text);
        lat.push(r.ms);
        if (detectRefusal(r.content.replace(/^\[\w+\]\s*/, '')) !== undefined) failed++;
        if (r.escalations > 0) escalated++;
      });
      const cost = costOf(cheapSim, from[0]!) + costOf(strongSim, from[1]!);
      out[name] = {
        cost_usd_per_1k_requests: r2((cost / prompts.length) * 1000, 5),
        latency_mean_ms: r2(lat.reduce((a, b) => a + b, 0) / lat.length),
        latency_p50_ms: r2(pct(lat, 0.5)),
        latency_p95_ms: r2(pct(lat, 0.95)),
        failed_answer_share: r2(failed / prompts.length, 3),
        escalated_share: r2(escalated / prompts.length, 3),
        strong_calls_per_request: r2((strongSim.requests.length - from[1]!) / prompts.length, 3),
      };
    }
    const c = out.cascade as Record<string, number>;
    const s = out.always_strong as Record<string, number>;
    out.cascade_cost_saving_vs_strong = r2(1 - c.cost_usd_per_1k_requests / s.cost_usd_per_1k_requests, 3);
    out.complexity_cost_saving_vs_strong = r2(1 - (out.complexity as Record<string, number>).cost_usd_per_1k_requests / s.cost_usd_per_1k_requests, 3);

    // streamed: time to first byte, buffered cascade vs direct
    const sample = prompts.slice(0, 40);
    for (const [name, model] of [['stream_cheap', 'cheap/small'], ['stream_strong', 'strong/big'], ['stream_cascade_buffered', 'cascade']] as const) {
      const ttfb: number[] = [];
      const total: number[] = [];
      await pool(sample, CONCURRENCY, async (p) => {
        const r = await ask(model, p.text, true);
        ttfb.push(r.ttfbMs);
        total.push(r.ms);
      });
      out[name] = { ttfb_p50_ms: r2(pct(ttfb, 0.5)), ttfb_p95_ms: r2(pct(ttfb, 0.95)), total_p50_ms: r2(pct(total, 0.5)) };
    }

    // the complexity estimate over the prompt sets: share per band
    const bands: Record<string, number> = { simple: 0, moderate: 0, complex: 0 };
    const t0 = performance.now();
    for (const p of prompts) bands[estimateComplexity({ messages: [{ role: 'user', content: p.text }] }).band]!++;
    const estimateUs = ((performance.now() - t0) * 1000) / prompts.length;
    out.complexity_bands = { simple: r2(bands.simple! / prompts.length, 3), moderate: r2(bands.moderate! / prompts.length, 3), complex: r2(bands.complex! / prompts.length, 3) };
    out.complexity_estimate_us_per_query = r2(estimateUs, 2);
  } finally {
    await gw.close();
    await cheap.close();
    await Promise.all([cheapSim.close(), strongSim.close()]);
  }
  return out;
}
