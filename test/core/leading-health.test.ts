/**
 * Leading health signals: rules read the `health` variable live, so a rule on a provider's error rate moves traffic before
 * its breaker opens. The first-byte deadline is a stream's: a JSON reply's headers come only with the whole answer, so a long
 * JSON generation is bounded by timeout_ms and never counts against its key while it runs — one tenant's long answers cannot
 * open a provider's breaker for everyone — while a hung provider's JSON attempts still end at timeout_ms and count. An
 * attempt that outlasts its deadline while the key answers other requests is the request's own (`timeout`): no verdict.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, provider, sims } from '../helpers/gateway.js';

const ask = (ai: OpenAI, model: string, content = 'ping') => ai.chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();

describe('leading health signals', () => {
  let ph: Simulator;
  let backup: Simulator;
  let gw: Gateway | undefined;
  before(async () => {
    [ph, backup] = await sims({ protocol: 'openai', name: 'ph' }, { protocol: 'openai', name: 'backup' });
  });
  afterEach(async () => { await gw?.close(); gw = undefined; ph.reset(); backup.reset(); });
  after(() => closeAll(undefined, [ph, backup]));

  /** A one-key provider `name` on `ph` (first-byte deadline 100 ms) that falls back to `backup`; its breaker opens on the second failure. */
  const withBackup = (name: string, timeoutMs: number): Promise<Gateway> => gateway({
    providers: { [name]: provider(ph, ['m'], [{ id: 'k1' }], { timeout_ms: timeoutMs, first_byte_timeout_ms: 100 }), backup: provider(backup, ['m']) },
    routing: { fallbacks: { [`${name}/m`]: ['backup/m'] } },
    circuit: { consecutive_failures: 2, cooldown_ms: 60_000 },
  });

  it('a rule on the error rate moves traffic off a failing provider before its breaker opens (no fallback chain)', async () => {
    const threshold = 5;
    gw = await gateway({
      providers: { ph: provider(ph, ['m']), backup: provider(backup, ['m']) },
      circuit: { consecutive_failures: threshold },
      rules: [{ name: 'leave-ph', cel_expression: 'health["ph"].error_rate > 0.2', targets: [{ provider: 'backup', model: 'm' }] }],
    });
    const ai = client(gw);
    const healthy = await ask(ai, 'ph/m');
    assert.equal(healthy.response.headers.get('x-switchyard-provider'), 'ph');

    ph.setFault({ status: 500 });
    let errors = 0;
    const servedBy: string[] = [];
    for (let i = 0; i < 3 * threshold; i++) {
      try {
        const { response } = await ask(ai, 'ph/m', `ping ${i}`);
        servedBy.push(response.headers.get('x-switchyard-provider') ?? '');
      } catch (err) {
        assert.ok(err instanceof OpenAI.APIError && err.status === 502, String(err));
        errors++;
      }
    }
    assert.ok(errors < threshold, `clients that saw an error: ${errors}, breaker threshold ${threshold}`);
    assert.equal(errors, 1, 'the first failure is counted before the next request is routed');
    assert.deepEqual(new Set(servedBy), new Set(['backup']));
    const view = gw.registry.provider('ph')!;
    assert.notEqual(view.keys[0]!.breaker, 'open', 'the rule acted, not the breaker');
    assert.equal(view.requests, 2);
    assert.equal(view.error_rate, 0.5);
  });

  it('time to first byte (JSON headers), in-flight and headroom are read per provider and key in rules', async () => {
    gw = await gateway({
      providers: { ph: provider(ph, ['m'], [{ id: 'k1' }]), backup: provider(backup, ['m']) },
      rules: [{ name: 'slow-ph', cel_expression: 'health.ph.keys["k1"].ttfb_p95_ms > 0.0 && health.ph.in_flight == 0 && health.ph.headroom > 0.0', targets: [{ provider: 'backup', model: 'm' }] }],
    });
    const ai = client(gw);
    assert.equal((await ask(ai, 'ph/m')).response.headers.get('x-switchyard-provider'), 'ph', 'no first byte measured yet');
    assert.equal((await ask(ai, 'ph/m')).response.headers.get('x-switchyard-provider'), 'backup', 'the JSON reply\'s headers were timed');
    assert.ok(gw.registry.provider('ph')!.ttfb_p95_ms > 0);
  });

  it('long JSON generations past the first-byte deadline are not counted against the key: its breaker stays closed for everyone', async () => {
    gw = await withBackup('slow', 5000);
    const ai = client(gw);
    const key = () => gw!.registry.provider('slow')!.keys[0]!;
    const tick = () => new Promise((r) => setTimeout(r, 20));
    // One tenant's three long answers (response headers only with the whole answer, 6x the first-byte deadline), at once.
    ph.setFault({ delayMs: 600 });
    const long = ['essay one', 'essay two', 'essay three'].map((content) => ask(ai, 'slow/m', content));
    while (ph.requestCount() < 3) await tick();
    await new Promise((r) => setTimeout(r, 300)); // all three are past their first-byte deadline, still generating
    assert.deepEqual([key().breaker, key().error_rate, key().in_flight], ['closed', 0, 3]);
    ph.reset();
    const other = await ask(ai, 'slow/m', 'another tenant');
    assert.equal(other.response.headers.get('x-switchyard-provider'), 'slow', 'another tenant is still served by the provider');
    for (const r of await Promise.all(long)) assert.equal(r.response.headers.get('x-switchyard-provider'), 'slow', 'not cut, not retried elsewhere');
    assert.deepEqual([key().requests, key().error_rate, key().in_flight, key().state], [4, 0, 0, 'healthy']);
    assert.equal(backup.requestCount(), 0);
  });

  it('answers past timeout_ms while the key answers other requests are the requests\' own: they fall back, the key keeps its health', async () => {
    gw = await withBackup('slow', 400);
    const ai = client(gw);
    const key = () => gw!.registry.provider('slow')!.keys[0]!;
    // One tenant's three answers take longer than timeout_ms; meanwhile the key answers another tenant's request at once.
    ph.inject({ delayMs: 1500 }, 3);
    const long = ['essay one', 'essay two', 'essay three'].map((content) => ask(ai, 'slow/m', content));
    while (ph.requestCount() < 3) await new Promise((r) => setTimeout(r, 10));
    const other = await ask(ai, 'slow/m', 'another tenant');
    assert.equal(other.response.headers.get('x-switchyard-provider'), 'slow');
    for (const r of await Promise.all(long)) assert.equal(r.response.headers.get('x-switchyard-provider'), 'backup', 'the timed-out answers fell back');
    assert.deepEqual([key().breaker, key().error_rate, key().in_flight, key().state], ['closed', 0, 0, 'healthy']);
    const next = await ask(ai, 'slow/m', 'later');
    assert.equal(next.response.headers.get('x-switchyard-provider'), 'slow', 'the key still serves everyone');
  });

  it('a hung provider: a JSON attempt ends at timeout_ms, counts against its key and falls back; the breaker opens after enough', async () => {
    gw = await withBackup('hung', 400);
    const ai = client(gw);
    ph.setFault({ hang: true });
    const started = performance.now();
    for (const r of await Promise.all([ask(ai, 'hung/m', 'one'), ask(ai, 'hung/m', 'two')])) {
      assert.equal(r.response.headers.get('x-switchyard-provider'), 'backup');
    }
    assert.ok(performance.now() - started >= 400, 'the JSON attempts waited for timeout_ms, not the first-byte deadline');
    const view = gw.registry.provider('hung')!;
    assert.deepEqual([view.keys[0]!.breaker, view.requests, view.error_rate, view.in_flight], ['open', 2, 1, 0]);
    const next = await ask(ai, 'hung/m', 'three');
    assert.equal(next.response.headers.get('x-switchyard-provider'), 'backup');
    assert.equal(ph.requestCount(), 2, 'no new request reached the hung provider');
  });
});
