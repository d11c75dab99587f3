/**
 * Provider adapter benchmarks against the local simulator (loopback, no artificial latency):
 *  - JSON chat calls through the openai adapter at a fixed concurrency (throughput, p50/p99 latency);
 *  - streamed chat calls (time to first part, parts per second);
 *  - the same for the anthropic adapter (translation both ways included);
 *  - the cost of translating one OpenAI request into an Anthropic request.
 * Run alone with `node --import tsx bench/providers.ts`.
 */
import { pathToFileURL } from 'node:url';
import { createAdapter } from '../src/providers/adapters.js';
import { buildAnthropicRequest } from '../src/providers/anthropic/build-anthropic-request.js';
import { DEFAULT_NON_RETRYABLE } from '../src/providers/failure.js';
import type { ProviderAdapter, UpstreamRequest } from '../src/providers/types.js';
import { startSimulator } from '../src/simulator/index.js';

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

function request(body: Record<string, unknown>, stream: boolean): UpstreamRequest {
  return { op: 'chat', model: String(body.model), body, stream, apiKey: 'k', headers: {}, abort: new AbortController().signal, timeoutMs: 10_000 };
}

async function load(adapter: ProviderAdapter, body: Record<string, unknown>, stream: boolean, total: number, concurrency: number) {
  const latencies: number[] = [];
  const firstPart: number[] = [];
  let parts = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next++;
      const start = performance.now();
      const reply = await adapter.call(request(body, stream));
      if (reply.kind === 'stream') {
        let first = true;
        for await (const _ of reply.parts) {
          if (first) firstPart.push(performance.now() - start);
          first = false;
          parts++;
        }
      }
      latencies.push(performance.now() - start);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  firstPart.sort((a, b) => a - b);
  return {
    rps: round(total / seconds, 1),
    p50_ms: round(percentile(latencies, 0.5)),
    p99_ms: round(percentile(latencies, 0.99)),
    first_part_p50_ms: firstPart.length > 0 ? round(percentile(firstPart, 0.5)) : 0,
    parts_per_s: round(parts / seconds, 0),
  };
}

export async function benchProviders(opts: { requests?: number; concurrency?: number } = {}): Promise<Record<string, number>> {
  const total = opts.requests ?? 3000;
  const concurrency = opts.concurrency ?? 32;
  const nonRetryable = new Set(DEFAULT_NON_RETRYABLE);
  const openaiSim = await startSimulator({ protocol: 'openai', name: 'bench' });
  const anthropicSim = await startSimulator({ protocol: 'anthropic', name: 'bench' });
  try {
    const openai = createAdapter({ name: 'bench', kind: 'openai', base_url: openaiSim.url, timeout_ms: 10_000 }, { nonRetryable });
    const anthropic = createAdapter({ name: 'bench', kind: 'anthropic', base_url: anthropicSim.url, timeout_ms: 10_000 }, { nonRetryable });
    const text = 'how do I reset my password on the mobile app when the email link has expired';
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'be helpful' }, { role: 'user', content: text }] };
    const claudeBody = { ...body, model: 'claude-3-5-haiku-latest' };
    await load(openai, body, false, 1000, concurrency); // warm-up: connections and JIT
    await load(anthropic, claudeBody, false, 1000, concurrency);
    const oj = await load(openai, body, false, total, concurrency);
    const os = await load(openai, { ...body, stream: true }, true, total, concurrency);
    const aj = await load(anthropic, claudeBody, false, total, concurrency);
    const as = await load(anthropic, { ...claudeBody, stream: true }, true, total, concurrency);

    const translationBody = {
      ...claudeBody,
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      tool_choice: 'auto', temperature: 0.3, max_tokens: 256,
    };
    const iterations = 100_000;
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) buildAnthropicRequest(translationBody, { model: 'claude', stream: false, defaultMaxTokens: 4096 });
    const translateUs = ((performance.now() - t0) * 1000) / iterations;

    return {
      openai_json_rps: oj.rps, openai_json_p50_ms: oj.p50_ms, openai_json_p99_ms: oj.p99_ms,
      openai_stream_rps: os.rps, openai_stream_first_part_p50_ms: os.first_part_p50_ms, openai_stream_parts_per_s: os.parts_per_s,
      anthropic_json_rps: aj.rps, anthropic_json_p50_ms: aj.p50_ms, anthropic_json_p99_ms: aj.p99_ms,
      anthropic_stream_rps: as.rps, anthropic_stream_first_part_p50_ms: as.first_part_p50_ms, anthropic_stream_parts_per_s: as.parts_per_s,
      anthropic_translate_request_us: round(translateUs),
      concurrency, requests: total,
    };
  } finally {
    await openaiSim.close();
    await anthropicSim.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchProviders(), null, 2));
}
