/**
 * Work queued to run once the reply is written (src/pipeline/after-reply.ts): order, isolation of a failing item, and the
 * two stages that use it — the spend ledger's and the budget's accounting of a JSON reply, and the PII scan when nothing
 * acts on it before the upstream call — run at once without the edge's queue and only when the queue is drained with it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterReply, drainAfterReply } from '../../src/pipeline/after-reply.js';
import { buildContext } from '../../src/pipeline/build-context.js';
import { ClientAbort } from '../../src/pipeline/client-abort.js';
import { ANONYMOUS, type RequestContext } from '../../src/pipeline/context.js';
import { observeUsage } from '../../src/governance/billing.js';
import { createSafetyStage } from '../../src/safety/stage.js';
import { createSafetySignals } from '../../src/safety/signals.js';
import { PiiScanner } from '../../src/safety/pii-scan.js';
import { safetyConfigSchema } from '../../src/safety/config.js';
import type { ProviderReply, Usage } from '../../src/providers/types.js';
import { createGovernanceStage } from '../../src/governance/stage.js';
import { runPipeline } from '../../src/pipeline/run.js';
import type { Stage } from '../../src/pipeline/stage.js';
import { makeCtx, makeGov } from '../governance/helpers.js';

const fail = (err: unknown): never => assert.fail(String(err));
const body = { model: 'm', messages: [{ role: 'user', content: 'mail me at ann@example.com please' }] };
const ctxOf = (queued: boolean): RequestContext =>
  buildContext('chat', structuredClone(body), {}, ANONYMOUS, new ClientAbort(), queued ? { afterReply: true } : {});
const reply: ProviderReply = {
  kind: 'json', status: 200, body: { choices: [] }, usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
} as unknown as ProviderReply;

describe('after-reply queue', () => {
  it('runs at once for a context without a queue', () => {
    const ctx = ctxOf(false);
    let ran = 0;
    afterReply(ctx, () => { ran++; });
    assert.equal(ran, 1);
    drainAfterReply(ctx, fail);
    assert.equal(ran, 1);
  });

  it('holds work until drained, runs it in order once, and a failing item neither stops the rest nor escapes', () => {
    const ctx = ctxOf(true);
    const seen: string[] = [];
    const errors: unknown[] = [];
    afterReply(ctx, () => { seen.push('a'); });
    afterReply(ctx, () => { throw new Error('boom'); });
    afterReply(ctx, () => {
      seen.push('b');
      afterReply(ctx, () => { seen.push('c'); }); // queued while draining: still runs
    });
    assert.deepEqual(seen, []);
    drainAfterReply(ctx, (e) => errors.push(e));
    assert.deepEqual(seen, ['a', 'b', 'c']);
    assert.equal(errors.length, 1);
    drainAfterReply(ctx, (e) => errors.push(e));
    assert.deepEqual(seen, ['a', 'b', 'c']);
  });

  it("a JSON reply's usage is accounted once the reply is written", () => {
    const ctx = ctxOf(true);
    const got: Usage[] = [];
    const out = observeUsage(ctx, reply, () => 0, (u) => got.push(u));
    assert.equal(out, reply);
    assert.equal(got.length, 0);
    drainAfterReply(ctx, fail);
    assert.deepEqual(got, [{ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }]);
  });

  describe('PII scan', () => {
    const stage = (cfg: unknown, cacheStores = false) => {
      const config = safetyConfigSchema.parse(cfg);
      const scanner = new PiiScanner();
      const signals = createSafetySignals({ config: () => config, examples: () => undefined, scanner });
      return createSafetyStage({ signals, config: () => config, cacheStores, scanner });
    };
    const findings = (ctx: RequestContext): unknown => (ctx.facts.safety as { pii?: unknown } | undefined)?.pii;

    it('with no PII action and no cache, runs after the reply and still records the findings for the log', () => {
      const ctx = ctxOf(true);
      stage({}).before!(ctx);
      assert.equal(findings(ctx), undefined);
      assert.equal(ctx.facts.cache_no_store, undefined);
      drainAfterReply(ctx, fail);
      assert.deepEqual(findings(ctx), [{ type: 'email', detector: 'email', at: 'messages[0].content', start: 11, end: 26 }]);
      assert.equal(ctx.facts.cache_no_store, true);
    });

    it('runs before the upstream call when a cache may store the reply or a PII action applies', () => {
      for (const [cfg, cacheStores] of [[{}, true], [{ pii: { action: 'redact' } }, false]] as const) {
        const ctx = ctxOf(true);
        stage(cfg, cacheStores).before!(ctx);
        assert.ok(findings(ctx), `findings at once for ${JSON.stringify(cfg)} cache ${cacheStores}`);
        assert.equal(ctx.facts.cache_no_store, true);
      }
    });
  });

  it("a JSON reply's budget settlement survives a later after-hook failing: the reply was paid for, so it is settled, not released", async () => {
    // One token costs $0.00001.
    const gov = await makeGov({
      pricing: { 'test/m': { input: 10, output: 10 } },
      keys: [{ id: 'k', name: 'k', key: 'sk-sy-k-secret-000000000000000000', budget: { limit_usd: 10, period: 'total' } }],
    });
    try {
      const caller = await gov.authenticate('Bearer sk-sy-k-secret-000000000000000000');
      const ctx: RequestContext = { ...makeCtx(caller, { model: 'm', route: { chain: [{ provider: 'test', model: 'm' }], rule: 'r' } }), afterReply: [] };
      // A stage before governance (its after runs later) whose after fails once the reply exists.
      const failing: Stage = { name: 'failing', before() {}, after() { throw new Error('after-hook failed'); } };
      const paid: ProviderReply = { kind: 'json', status: 200, body: { choices: [] }, usage: { prompt_tokens: 400, completion_tokens: 600, total_tokens: 1000 } };
      ctx.attempts.push({ provider: 'test', model: 'm', keyId: 'a', status: 200, latencyMs: 1 });
      await assert.rejects(runPipeline(ctx, [failing, createGovernanceStage({ governance: gov })], async () => paid), /after-hook failed/);
      drainAfterReply(ctx, fail); // as the edge does in its error path
      await gov.enforcement.drain();
      assert.equal((await gov.usage('keys', 'k')).budget?.used_usd, 0.01);
    } finally {
      await gov.close();
    }
  });
});
