/**
 * The request's semantic budget in process: a late event loop sheds the work before it starts ("lagging"), an embedding
 * that arrives in time makes the request ready, and every outcome lands in ctx.facts.semantic and the reply header.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NONE_INTENT } from '../../src/semantic/classifier.js';
import { createQuerySemantics, UNAVAILABLE_FACTS } from '../../src/pipeline/query-semantics.js';
import { SemanticUnavailable } from '../../src/pipeline/semantic-budget.js';
import { EmbedderBusy } from '../../src/semantic/embedder/batching.js';
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

test('a text the embedder refuses on arrival is degraded (busy) in the same turn; one refused after queueing too, when it is', async () => {
  // A budget the previous test's blocked loop cannot have outrun (the lag sampler remembers it for a while).
  const q = createQuerySemantics(service(() => EmbedderBusy.refusal), () => ({ embedText: 'last_user', maxWaitMs: 60_000 }));
  const ctx = chatCtx({ text: 'summarise this' });
  const pending = q.classify(ctx);
  // Nothing awaited yet: the refusal was told by identity, the outcome recorded at once.
  assert.deepEqual(ctx.facts.semantic, { state: 'degraded', reason: 'busy', stage: 'embed', budget_ms: 60_000 });
  assert.equal(ctx.replyHeaders['x-switchyard-intent'], 'unavailable');
  assert.deepEqual(await pending, UNAVAILABLE_FACTS);
  await assert.rejects(q.embed(ctx), (err: unknown) => err instanceof SemanticUnavailable && err.reason === 'busy');

  // Queued, then pushed out by another key's text (fair-line.ts): the rejection comes later, with the same outcome.
  const later = createQuerySemantics(service(() => new Promise((_, reject) => setTimeout(() => reject(EmbedderBusy.instance), 5))), () => ({ embedText: 'last_user', maxWaitMs: 60_000 }));
  const ctx2 = chatCtx({ text: 'summarise that' });
  const facts = await later.classify(ctx2);
  assert.equal(facts?.intent, 'unavailable');
  assert.deepEqual(ctx2.facts.semantic, { state: 'degraded', reason: 'busy', stage: 'embed', budget_ms: 60_000 });
});

test('a request without text has no intent facts and is not marked degraded', async () => {
  let asked = 0;
  const q = createQuerySemantics(service(async (t) => { asked++; return standInEmbed(t); }), () => ({ embedText: 'last_user', maxWaitMs: 20 }));
  const ctx = chatCtx({ text: '' });
  assert.equal(await q.classify(ctx), undefined);
  assert.equal(asked, 0);
  assert.equal(ctx.facts.semantic, undefined);
  await assert.rejects(q.embed(ctx), /no text/);
});
