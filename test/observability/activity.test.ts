import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/errors.js';
import { ActivityFeed } from '../../src/observability/activity.js';
import { explainOf, sanitize } from '../../src/observability/explain.js';
import { outcomeOf, type RequestOutcome } from '../../src/observability/outcome.js';
import { ANONYMOUS, type RequestContext } from '../../src/pipeline/context.js';

const outcome = (o: Partial<RequestOutcome> = {}): RequestOutcome => ({
  requestType: 'chat_completion', status: 200, attempts: [], durationMs: 10, stream: false, ...o,
});

function clock(start = Date.UTC(2026, 0, 1, 12, 0, 0)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

describe('activity feed', () => {
  it('keeps the last N decisions, newest first', () => {
    const c = clock();
    const feed = new ActivityFeed({ capacity: 3, now: c.now });
    for (let i = 1; i <= 5; i++) {
      feed.record(outcome({ id: `r${i}`, durationMs: i }));
      c.advance(1);
    }
    assert.deepEqual(feed.entries().map((e) => e.id), ['r5', 'r4', 'r3']);
    assert.deepEqual(feed.overview(2).recent.map((e) => e.id), ['r5', 'r4']);
  });

  it('counts requests, errors and cache results per 10 s bucket and drops buckets older than the window', () => {
    const c = clock();
    const feed = new ActivityFeed({ bucketMs: 10_000, windowMs: 60_000, now: c.now });
    feed.record(outcome({ cache: 'miss', provider: 'p', rule: 'r1', intent: 'billing', usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }));
    feed.record(outcome({ cache: 'hit-exact', rule: 'r1', intent: 'billing' }));
    feed.record(outcome({ status: 502, errorCode: 'upstream_error', provider: 'q', intent: 'smalltalk' }));
    c.advance(10_000);
    feed.record(outcome({ cache: 'hit-semantic', cacheSimilarity: 0.93456, intent: 'billing' }));
    let o = feed.overview();
    assert.equal(o.series.length, 6);
    assert.deepEqual(o.series.slice(-2).map((p) => [p.requests, p.errors, p.cache_hits, p.cache_lookups]), [[3, 1, 1, 2], [1, 0, 1, 1]]);
    assert.deepEqual(o.by_intent, { billing: 3, smalltalk: 1 });
    assert.deepEqual(o.by_rule, { r1: 2, none: 2 });
    assert.deepEqual(o.by_provider, { cache: 2, p: 1, q: 1 });
    assert.equal(o.last_hour.cache_hit_rate, 0.6667);
    assert.equal(o.totals.tokens, 5);
    assert.equal(o.recent[0].cache_similarity, 0.9346);
    assert.equal(o.recent[1].error_code, 'upstream_error');

    c.advance(55_000); // the first bucket is now outside the 60 s window
    o = feed.overview();
    assert.equal(o.last_hour.requests, 1);
    assert.deepEqual(o.by_intent, { billing: 1 });
    assert.equal(o.totals.requests, 4, 'totals are kept since start');
    assert.equal(o.recent.length, 4, 'recent decisions are kept by count, not time');
  });

  it('bounds the names counted per bucket', () => {
    const feed = new ActivityFeed({ nameCap: 2, now: () => 0 });
    for (const intent of ['a', 'b', 'c', 'd', 'a']) feed.record(outcome({ intent }));
    assert.deepEqual(feed.overview().by_intent, { a: 2, other: 2, b: 1 });
  });

  it('reports last-minute rate and latency percentiles, and is JSON-serialisable', () => {
    const c = clock();
    const feed = new ActivityFeed({ now: c.now });
    c.advance(60_000);
    for (let i = 1; i <= 100; i++) feed.record(outcome({ durationMs: i }));
    const o = feed.overview();
    assert.equal(o.last_minute.requests, 100);
    assert.ok(o.last_minute.rate_per_s > 0);
    assert.deepEqual([o.latency_ms.p50, o.latency_ms.p95, o.latency_ms.p99], [50, 95, 99]);
    assert.deepEqual(JSON.parse(JSON.stringify(o)), o);
  });
});

function ctxWith(facts: Record<string, unknown>): RequestContext {
  return {
    id: 'req-abc', startedAt: 0, op: 'chat', protocol: 'openai.chat', requestType: 'chat_completion',
    body: { model: 'gpt', messages: [{ role: 'user', content: 'my secret question' }] }, model: 'gpt', stream: false,
    headers: { authorization: 'Bearer sk-live-123' }, caller: ANONYMOUS, signal: new AbortController().signal,
    route: { rule: 'billing-route', chain: [{ provider: 'p', model: 'm' }], cache: { threshold: 0.9 } },
    attempts: [{ provider: 'p', model: 'm', keyId: 'k1', status: 200, latencyMs: 12 }],
    usage: { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 },
    warnings: [], replyHeaders: {}, facts,
  };
}

describe('outcome and explain', () => {
  it('derives the outcome from the context facts', () => {
    const ctx = ctxWith({ intent: { intent: 'billing', score: 0.81, margin: 0.2 }, cache: { outcome: 'miss', best: 0.71, threshold: 0.9 }, ttfb_ms: 7 });
    const o = outcomeOf(ctx, 200, 40);
    assert.equal(o.intent, 'billing');
    assert.equal(o.intentScore, 0.81);
    assert.equal(o.cache, 'miss');
    assert.equal(o.cacheSimilarity, 0.71);
    assert.equal(o.rule, 'billing-route');
    assert.equal(o.provider, 'p');
    assert.equal(o.ttfbMs, 7);
    assert.equal(o.usage?.total_tokens, 10);
    assert.equal(outcomeOf(ctxWith({ intent: 'smalltalk', cache: 'nonsense' }), 200, 1).intent, 'smalltalk');
    const refused = outcomeOf(ctxWith({}), 402, 1, new GatewayError({ status: 402, message: 'Budget exceeded', type: 'insufficient_quota', code: 'budget_exceeded', failure: 'policy' }));
    assert.deepEqual([refused.errorCode, refused.denial], ['budget_exceeded', 'budget_exceeded']);
    assert.equal(outcomeOf(ctxWith({}), 502, 1, new GatewayError({ status: 502, message: 'x', type: 'upstream_error', code: 'upstream_error', failure: 'upstream' })).denial, undefined);
    assert.equal(outcomeOf(ctxWith({ cache: 'nonsense' }), 200, 1).cache, undefined);
  });

  it('never carries prompt text, headers or secrets into the explain trace', () => {
    const ctx = ctxWith({
      rules: [{ rule: 'billing-route', result: 'match' }],
      variables: { prompt: 'my secret question', headers: { authorization: 'Bearer sk-live-123' }, intent: 'billing', params: { temperature: 0 } },
      governance: { api_key: 'sk-live-123', reserved_tokens: 100 },
    });
    const e = explainOf(ctx);
    const text = JSON.stringify(e);
    assert.doesNotMatch(text, /secret question|sk-live|authorization|temperature/);
    assert.match(text, /billing-route/);
    assert.deepEqual((e.facts as any).governance, { reserved_tokens: 100 });
    assert.deepEqual((e.route as any).chain, [{ provider: 'p', model: 'm' }]);
  });

  it('bounds depth, breadth and string length', () => {
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
    assert.deepEqual(sanitize(deep), { a: { b: { c: { d: { e: '…' } } } } });
    const wide = sanitize(Array.from({ length: 30 }, (_, i) => i)) as unknown[];
    assert.equal(wide.length, 25);
    assert.equal(wide[24], '… 6 more');
    assert.equal((sanitize('x'.repeat(500)) as string).length, 161);
    assert.deepEqual(sanitize({ n: 10n, v: new Float32Array(3), x: Number.NaN }), { n: 10, v: '[Float32Array]', x: null });
  });
});
