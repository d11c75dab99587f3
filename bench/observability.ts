/**
 * Observability benchmarks: the per-request cost of what runs when a request finishes — deriving the outcome and explain
 * trace from the context, `metrics.recordRequest` and `activity.record` — plus the cost of a scrape (`/metrics` text with
 * realistic series counts) and of the dashboard's `overview()` with a full hour of buckets.
 * Run alone with `node --import tsx bench/observability.ts`.
 */
import { performance } from 'node:perf_hooks';
import { ActivityFeed } from '../src/observability/activity.js';
import { explainOf, traceOf } from '../src/observability/explain.js';
import { createMetrics } from '../src/observability/metrics.js';
import { outcomeOf } from '../src/observability/outcome.js';
import { ANONYMOUS, type RequestContext } from '../src/pipeline/context.js';
import type { ProviderHealthView } from '../src/providers/health-registry.js';

const PROVIDERS = ['openai', 'anthropic', 'azure', 'groq'];
const MODELS = ['small', 'large', 'mini'];
const RULES = ['default', 'code-to-large', 'billing-cheap', 'long-prompts', 'smalltalk-mini'];
const INTENTS = ['none', 'billing', 'code', 'smalltalk', 'math', 'support'];
const CACHE = ['miss', 'hit-exact', 'hit-semantic', 'skip'] as const;

function context(i: number): RequestContext {
  const provider = PROVIDERS[i % PROVIDERS.length];
  const model = MODELS[i % MODELS.length];
  const retried = i % 20 === 0;
  const attempts = [
    ...(retried ? [{ provider: 'openai', model, keyId: 'k2', status: 503 as const, latencyMs: 30 }] : []),
    { provider, model, keyId: `k${i % 3}`, status: 200, latencyMs: 180 + (i % 50) },
  ];
  const cache = CACHE[i % CACHE.length];
  return {
    id: `req-${i}`, startedAt: 0, op: 'chat', protocol: 'openai.chat', requestType: i % 3 === 0 ? 'chat_completion_stream' : 'chat_completion',
    body: { model, messages: [{ role: 'user', content: 'x' }] }, model, stream: i % 3 === 0, headers: {}, caller: ANONYMOUS,
    signal: new AbortController().signal,
    route: { rule: RULES[i % RULES.length], chain: [{ provider, model }, { provider: 'azure', model }] },
    attempts: cache.startsWith('hit') ? [] : attempts,
    usage: { prompt_tokens: 40, completion_tokens: 120, total_tokens: 160 },
    warnings: [], replyHeaders: {},
    facts: {
      intent: { intent: INTENTS[i % INTENTS.length], score: 0.7, margin: 0.1 },
      cache: { outcome: cache, similarity: 0.93, partition: 'p' },
      ttfb_ms: 150,
      rules: [{ rule: RULES[i % RULES.length], result: 'match', chain_step: 0, scope: 'global', priority: 10 }],
    },
  };
}

const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const round = (n: number, d = 3): number => Number(n.toFixed(d));

export async function benchObservability(opts: { requests?: number } = {}): Promise<Record<string, number>> {
  const n = opts.requests ?? 200_000;
  const health: Record<string, ProviderHealthView> = Object.fromEntries(PROVIDERS.map((p) => [p, {
    state: 'healthy' as const, error_rate: 0.01, requests: 300, p50_ms: 200, p95_ms: 600, ttfb_p50_ms: 200, ttfb_p95_ms: 600, in_flight: 6, headroom: 1, available_keys: 3,
    keys: [0, 1, 2].map((k) => ({
      id: `k${k}`, state: 'healthy' as const, breaker: 'closed' as const, error_rate: 0.01, requests: 100, ewma_ms: 210, p50_ms: 200, p95_ms: 600,
      ttfb_p50_ms: 200, ttfb_p95_ms: 600, in_flight: 2, remaining_requests: null, headroom: 1, models: {},
    })),
    models: {},
  }]));
  const metrics = createMetrics({ health: () => health });
  const feed = new ActivityFeed();
  const contexts = Array.from({ length: 1000 }, (_, i) => context(i));

  // Warm up label children and JIT.
  for (let i = 0; i < 5000; i++) {
    const o = outcomeOf(contexts[i % 1000], 200, 250);
    metrics.recordRequest(o);
    feed.record(o, traceOf(contexts[i % 1000]));
  }

  let t = performance.now();
  for (let i = 0; i < n; i++) metrics.recordRequest(outcomeOf(contexts[i % 1000], 200, 250));
  const recordNs = ((performance.now() - t) * 1e6) / n;

  t = performance.now();
  for (let i = 0; i < n; i++) feed.record(outcomeOf(contexts[i % 1000], 200, 250), traceOf(contexts[i % 1000]));
  const activityNs = ((performance.now() - t) * 1e6) / n;

  const m = Math.min(n, 50_000);
  t = performance.now();
  for (let i = 0; i < m; i++) explainOf(contexts[i % 1000]);
  const explainNs = ((performance.now() - t) * 1e6) / m;

  const scrape: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 30; i++) {
    const s = performance.now();
    bytes = (await metrics.render()).length;
    scrape.push(performance.now() - s);
  }
  scrape.sort((a, b) => a - b);

  // A full hour of 10 s buckets: one request per bucket spread over 3600 s of simulated time.
  let now = Date.now() - 3_600_000;
  const hour = new ActivityFeed({ now: () => now });
  for (let i = 0; i < 36_000; i++) {
    now += 100;
    const c = contexts[i % 1000];
    hour.record(outcomeOf(c, 200, 250), traceOf(c));
  }
  const overview: number[] = [];
  let overviewBytes = 0;
  for (let i = 0; i < 30; i++) {
    const s = performance.now();
    overviewBytes = JSON.stringify(hour.overview()).length;
    overview.push(performance.now() - s);
  }
  overview.sort((a, b) => a - b);

  const series = (await metrics.registry.getMetricsAsJSON()).reduce((acc, mm) => acc + (mm.values?.length ?? 0), 0);
  return {
    requests: n,
    record_request_ns: round(recordNs, 0),
    activity_record_ns: round(activityNs, 0),
    explain_ns: round(explainNs, 0),
    scrape_p50_ms: round(pct(scrape, 50)),
    scrape_p99_ms: round(pct(scrape, 99)),
    scrape_bytes: bytes,
    series,
    overview_p50_ms: round(pct(overview, 50)),
    overview_bytes: overviewBytes,
  };
}

export default benchObservability;

if (import.meta.url === `file://${process.argv[1]}`) {
  benchObservability().then((r) => console.log(JSON.stringify(r, null, 2)), (err) => { console.error(err); process.exitCode = 1; });
}
