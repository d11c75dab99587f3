/**
 * The request's semantic budget in process: a late event loop sheds the work before it starts ("lagging"), an embedding
 * that arrives in time makes the request ready, and every outcome lands in ctx.facts.semantic and the reply header.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NONE_INTENT } from '../../src/semantic/classifier.js';
import { createQuerySemantics } from '../../src/pipeline/query-semantics.js';
import { loopLagMs } from '../../src/pipeline/loop-lag.js';
import type { SemanticService } from '../../src/semantic/service.js';
import { chatCtx, standInEmbed } from '../cache/helpers.js';

/** A semantic service over the deterministic stand-in embedding (test double; the real embedder has its own tests). */
const service = (embed: SemanticService['embed']): SemanticService => ({
  embed, embedderId: 'stand-in', embedderSpace: 'stand-in', dim: 64, ready: true, queued: 0,
  classify: () => ({ intent: NONE_INTENT, score: 0, margin: 0, top: [], metadata: {} }),
  categories: () => [], reload: async () => {}, settled: async () => {}, close: async () => {},
});

/** The next timers phase: a timer due long ago (the sampler's) runs before this one. */
const nextTimers = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

test('an embedding had within the budget makes the request ready', async () => {
  const q = createQuerySemantics(service(async (t) => standInEmbed(t)), () => ({ embedText: 'last_user', maxWaitMs: 60_000 }));
  const ctx = chatCtx({ text: 'hello there' });
  const facts = await q.classify(ctx);
  assert.equal(facts?.ready, true);
  assert.deepEqual(ctx.facts.semantic, { state: 'ready', budget_ms: 60_000 });
  assert.equal(ctx.replyHeaders['x-switchyard-semantic'], 'ready');
});

test('when the event loop runs later than the budget, semantic work is not started: intent unavailable, reason lagging', async () => {
  let embedded = 0;
  const q = createQuerySemantics(service(async (t) => { embedded++; return standInEmbed(t); }), () => ({ embedText: 'last_user', maxWaitMs: 10 }));
  loopLagMs(); // the sampler runs from here on
  const until = performance.now() + 300;
  while (performance.now() < until) { /* the loop is blocked: the sampler's next tick is 250 ms late */ }
  await nextTimers(); // the sampler's overdue tick runs first
  assert.ok(loopLagMs() > 10, `lag ${loopLagMs()} ms`);
  const ctx = chatCtx({ text: 'write a function' });
  const facts = await q.classify(ctx);
  assert.equal(facts?.ready, false);
  assert.equal(facts?.intent, 'unavailable');
  assert.equal(embedded, 0, 'the embedder was not asked');
  assert.deepEqual(ctx.facts.semantic, { state: 'degraded', reason: 'lagging', stage: 'embed', budget_ms: 10 });
  assert.equal(ctx.replyHeaders['x-switchyard-semantic'], 'degraded');
  assert.equal(ctx.replyHeaders['x-switchyard-intent'], 'unavailable');
});
