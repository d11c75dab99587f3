import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeAll, gateway, provider, sims } from '../helpers/gateway.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { RequestOutcome } from '../../src/observability/outcome.js';
import type { ProviderHealthView } from '../../src/providers/health-registry.js';
import type { Simulator } from '../../src/simulator/types.js';
import { ADMIN_KEY, observedGateway, sample, type ObservedGateway } from './harness.js';

const base = (o: Partial<RequestOutcome> = {}): RequestOutcome => ({
  requestType: 'chat_completion', status: 200, attempts: [], durationMs: 100, stream: false, ...o,
});

describe('metrics: recording', () => {
  it('derives retries, fallbacks, upstream time and overhead from the attempts', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.recordRequest(base({
      provider: 'backup', model: 'm', rule: 'cheap', intent: 'billing', cache: 'miss', durationMs: 250,
      attempts: [
        { provider: 'primary', model: 'm', keyId: 'k1', status: 500, latencyMs: 40 },
        { provider: 'primary', model: 'm', keyId: 'k2', status: 'error', latencyMs: 60 },
        { provider: 'backup', model: 'm', keyId: 'b1', status: 200, latencyMs: 120 },
      ],
      usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
    }));
    const text = await m.render();
    assert.equal(sample(text, 'switchyard_requests_total', { request_type: 'chat_completion', status_class: '2xx', code: '200', provider: 'backup', model: 'm', rule: 'cheap', intent: 'billing', cache: 'miss' }), 1);
    assert.equal(sample(text, 'switchyard_retried_requests_total', { request_type: 'chat_completion' }), 1);
    assert.equal(sample(text, 'switchyard_retries_total'), 2);
    assert.equal(sample(text, 'switchyard_retries_total', { provider: 'backup' }), 1);
    assert.equal(sample(text, 'switchyard_fallbacks_total', { from_provider: 'primary', to_provider: 'backup' }), 1);
    assert.equal(sample(text, 'switchyard_upstream_attempts_total', { provider: 'primary', key: 'k2', code: 'error' }), 1);
    assert.equal(sample(text, 'switchyard_upstream_latency_seconds_count', { provider: 'primary', outcome: 'error' }), 2);
    assert.equal(sample(text, 'switchyard_upstream_latency_seconds_sum', { provider: 'backup', outcome: 'success' }), 0.12);
    // 250 ms total − 220 ms upstream = 30 ms of gateway time.
    assert.ok(Math.abs(sample(text, 'switchyard_gateway_overhead_seconds_sum', { source: 'upstream' })! - 0.03) < 1e-9);
    assert.equal(sample(text, 'switchyard_tokens_total', { provider: 'backup', kind: 'prompt' }), 11);
    assert.equal(sample(text, 'switchyard_tokens_total', { provider: 'backup', kind: 'completion' }), 7);
    assert.equal(sample(text, 'switchyard_request_errors_total'), undefined);
  });

  it('streams: overhead is time to first byte minus upstream time to first part; ttfb by who served it', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.recordRequest(base({ requestType: 'chat_completion_stream', stream: true, provider: 'p', model: 'm', durationMs: 2000, ttfbMs: 50, attempts: [{ provider: 'p', model: 'm', keyId: 'k', status: 200, latencyMs: 45 }] }));
    m.recordRequest(base({ requestType: 'chat_completion_stream', stream: true, cache: 'hit-exact', durationMs: 4, ttfbMs: 3 }));
    const text = await m.render();
    assert.ok(Math.abs(sample(text, 'switchyard_gateway_overhead_seconds_sum', { request_type: 'chat_completion_stream', source: 'upstream' })! - 0.005) < 1e-9);
    assert.equal(sample(text, 'switchyard_gateway_overhead_seconds_count', { source: 'cache' }), 1);
    assert.equal(sample(text, 'switchyard_stream_ttfb_seconds_count', { provider: 'p' }), 1);
    assert.equal(sample(text, 'switchyard_stream_ttfb_seconds_count', { provider: 'cache' }), 1);
  });

  it('errors are counted by status and error code', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.recordRequest(base({ status: 429, errorCode: 'rate_limit_exceeded', denial: 'rate_limit_exceeded' }));
    const text = await m.render();
    assert.equal(sample(text, 'switchyard_denials_total', { kind: 'rate_limit_exceeded' }), 1);
    assert.equal(sample(text, 'switchyard_request_errors_total', { code: '429', error_code: 'rate_limit_exceeded' }), 1);
    assert.equal(sample(text, 'switchyard_requests_total', { status_class: '4xx', provider: 'none', rule: 'none' }), 1);
  });

  it('caps distinct label values and maps the rest to "other"', async () => {
    const m = createMetrics({ defaultMetrics: false, labelCap: 3 });
    for (let i = 0; i < 10; i++) m.ruleError(`rule-${i}`);
    m.ruleError('rule-1');
    const text = await m.render();
    assert.equal(sample(text, 'switchyard_rule_errors_total', { rule: 'rule-1' }), 2);
    assert.equal(sample(text, 'switchyard_rule_errors_total', { rule: 'other' }), 7);
    assert.equal(sample(text, 'switchyard_rule_errors_total', { rule: 'rule-5' }), undefined);
  });

  it('events outside a request: embeddings, cache, denials', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.embedding(12, 8);
    m.embedding(3, 1);
    m.cacheStatsEvent({ type: 'hit', layer: 'semantic', similarity: 0.93 });
    m.cacheStatsEvent({ type: 'guard_reject', check: 'numbers', similarity: 0.95 });
    m.cacheStatsEvent({ type: 'skip', reason: 'temperature' });
    m.cacheEvent('miss');
    m.denial('budget');
    m.denial('budget');
    const text = await m.render();
    assert.equal(sample(text, 'switchyard_embedding_batch_size_count'), 2);
    assert.equal(sample(text, 'switchyard_embedding_batch_size_sum'), 9);
    assert.equal(sample(text, 'switchyard_embedding_latency_seconds_bucket', { le: '0.005' }), 1);
    assert.equal(sample(text, 'switchyard_cache_events_total', { kind: 'hit', reason: 'semantic' }), 1);
    assert.equal(sample(text, 'switchyard_cache_events_total', { kind: 'guard_reject', reason: 'numbers' }), 1);
    assert.equal(sample(text, 'switchyard_cache_events_total', { kind: 'skip', reason: 'temperature' }), 1);
    assert.equal(sample(text, 'switchyard_cache_events_total', { kind: 'miss', reason: 'none' }), 1);
    assert.equal(sample(text, 'switchyard_cache_hit_similarity_bucket', { layer: 'semantic', le: '0.95' }), 1);
    assert.equal(sample(text, 'switchyard_cache_hit_similarity_bucket', { layer: 'semantic', le: '0.9' }), 0);
    assert.equal(sample(text, 'switchyard_denials_total', { kind: 'budget' }), 2);
  });

  it('the gateway reports every embedding model call with its latency and batch size', async () => {
    const [up] = await sims({ protocol: 'openai', name: 'up' });
    const gw = await gateway({ server: { admin_key: ADMIN_KEY }, semantic: { reference_prompts: { watch: false } }, providers: { up: provider(up, ['m']) } });
    try {
      await Promise.all(['how do I sort a list in python', 'what is 12 times 7', 'tell me a story about a dragon'].map((input) =>
        fetch(`${gw.url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) })));
      const text = await (await fetch(`${gw.url}/metrics`, { headers: { 'x-admin-key': ADMIN_KEY } })).text();
      assert.ok((sample(text, 'switchyard_embedding_latency_seconds_count') ?? 0) >= 1, 'model calls counted');
      assert.ok((sample(text, 'switchyard_embedding_batch_size_sum') ?? 0) >= 3, 'every embedded text counted');
    } finally {
      await closeAll(gw, [up]);
    }
  });

  it('circuit states come from the health snapshot at scrape time', async () => {
    let state: ProviderHealthView['state'] = 'healthy';
    const view = (): Record<string, ProviderHealthView> => ({
      p: {
        state, error_rate: 0.5, requests: 4, p50_ms: 10, p95_ms: 20, ttfb_p50_ms: 10, ttfb_p95_ms: 20, in_flight: 2, headroom: 1, available_keys: state === 'open' ? 0 : 1,
        keys: [{ id: 'k1', state, breaker: state === 'open' ? 'open' : 'closed', error_rate: 0.5, requests: 4, ewma_ms: 12, p50_ms: 10, p95_ms: 20, ttfb_p50_ms: 10, ttfb_p95_ms: 20, in_flight: 2, remaining_requests: null, headroom: 1, models: {} }],
        models: {},
      },
    });
    const m = createMetrics({ defaultMetrics: false, health: view });
    let text = await m.render();
    assert.equal(sample(text, 'switchyard_circuit_state', { provider: 'p', key: 'k1', state: 'healthy' }), 1);
    assert.equal(sample(text, 'switchyard_circuit_state', { provider: 'p', key: 'k1', state: 'open' }), 0);
    assert.equal(sample(text, 'switchyard_key_in_flight', { provider: 'p', key: 'k1' }), 2);
    state = 'open';
    text = await m.render();
    assert.equal(sample(text, 'switchyard_circuit_state', { provider: 'p', key: 'k1', state: 'open' }), 1);
    assert.equal(sample(text, 'switchyard_provider_state', { provider: 'p', state: 'open' }), 1);
    assert.equal(sample(text, 'switchyard_provider_available_keys', { provider: 'p' }), 0);
  });

  it('registries are independent and carry process metrics unless disabled', async () => {
    const a = createMetrics();
    const b = createMetrics({ defaultMetrics: false });
    a.denial('budget');
    assert.match(await a.render(), /^process_cpu_user_seconds_total /m);
    assert.doesNotMatch(await b.render(), /process_cpu_user_seconds_total|switchyard_denials_total\{/);
  });
});

describe('metrics: GET /metrics through a real gateway', () => {
  let primary: Simulator;
  let backup: Simulator;
  let gw: ObservedGateway;
  before(async () => {
    [primary, backup] = await sims({ protocol: 'openai', name: 'primary' }, { protocol: 'openai', name: 'backup' });
    gw = await observedGateway(
      {
        providers: { primary: provider(primary, ['m'], [{ id: 'k1' }]), backup: provider(backup, ['m'], [{ id: 'b1' }]) },
        routing: { fallbacks: { 'primary/m': ['backup/m'] } },
        circuit: { consecutive_failures: 100 },
      },
      [{ name: 'long-questions', cel_expression: 'prompt_chars > 40', targets: [{ provider: 'backup', model: 'm' }] }],
    );
  });
  after(async () => {
    await gw.close();
    await Promise.all([primary.close(), backup.close()]);
  });

  const chat = (content: string, extra: Record<string, unknown> = {}) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'primary/m', messages: [{ role: 'user', content }], ...extra }),
    });

  it('counts requests, fallbacks, rules, cache results and streams with bounded labels', async () => {
    assert.equal((await chat('hello')).status, 200);
    await gw.stored(1);
    assert.equal((await chat('hello')).status, 200); // exact repeat: served by the cache
    primary.inject({ status: 500 });
    assert.equal((await chat('fall back please')).status, 200);
    assert.equal((await chat('this question is long enough to match the rule')).status, 200);
    const stream = await chat('stream me', { stream: true });
    assert.equal(stream.status, 200);
    await stream.text();
    assert.equal((await chat('x', { model: 'nowhere/m' })).status, 404);

    const res = await fetch(`${gw.url}/metrics`, { headers: { 'x-admin-key': ADMIN_KEY } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.equal(sample(text, 'switchyard_requests_total'), 6);
    assert.equal(sample(text, 'switchyard_requests_total', { request_type: 'chat_completion', provider: 'primary', rule: 'default', cache: 'miss', code: '200' }), 1);
    assert.equal(sample(text, 'switchyard_requests_total', { cache: 'hit-exact', provider: 'none' }), 1);
    assert.equal(sample(text, 'switchyard_requests_total', { rule: 'long-questions', provider: 'backup' }), 1);
    assert.equal(sample(text, 'switchyard_requests_total', { request_type: 'chat_completion_stream', status_class: '2xx' }), 1);
    assert.equal(sample(text, 'switchyard_request_errors_total', { code: '404', error_code: 'model_not_found' }), 1);
    assert.equal(sample(text, 'switchyard_fallbacks_total', { from_provider: 'primary', to_provider: 'backup' }), 1);
    assert.equal(sample(text, 'switchyard_upstream_attempts_total', { provider: 'primary', key: 'k1', code: '502' }), 1); // an upstream 500 is reported as a 502
    assert.equal(sample(text, 'switchyard_stream_ttfb_seconds_count', { provider: 'primary' }), 1);
    assert.equal(sample(text, 'switchyard_cache_events_total', { kind: 'hit', reason: 'exact' }), 1);
    assert.ok((sample(text, 'switchyard_cache_events_total', { kind: 'miss' }) ?? 0) >= 4);
    assert.equal(sample(text, 'switchyard_circuit_state', { provider: 'backup', key: 'b1', state: 'healthy' }), 1);
    assert.ok((sample(text, 'switchyard_tokens_total', { provider: 'primary', kind: 'completion' }) ?? 0) > 0);
    assert.ok(sample(text, 'process_resident_memory_bytes')! > 0);
    // No request ids, prompt text or keys in any label.
    assert.doesNotMatch(text, /hello|fall back|stream me|key-k1|req_|chatcmpl/);
  });

  it('is refused without the admin key', async () => {
    const res = await fetch(`${gw.url}/metrics`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as any).error.code, 'invalid_admin_key');
  });
});
