/**
 * The request's meaning, computed lazily and at most once per request: the embedding of its text (shared by the cache and
 * the classifier) and its intent classification. Nothing is embedded unless a rule, the cache or an endpoint asks.
 * Every wait is bounded by the request's semantic budget (semantic-budget.ts): an embedding that cannot be had in time —
 * the embedder's queue is full, or the budget runs out — leaves the request degraded, with intent "unavailable".
 */
import { EmbedderBusy } from '../semantic/embedder/batching.js';
import type { SemanticFacts } from '../rules/index.js';
import type { EmbedTextMode } from '../semantic/config.js';
import { UNAVAILABLE_INTENT } from '../semantic/classifier.js';
import { textToEmbed, type SemanticService } from '../semantic/service.js';
import type { RequestContext } from './context.js';
import { loopLagMs } from './loop-lag.js';
import { budgetOf, SemanticUnavailable, type SemanticBudget } from './semantic-budget.js';
import { RequestLocal } from './request-local.js';

export interface QuerySemantics {
  /**
   * The embedding of the request's text; rejects when it has none, and with SemanticUnavailable when it cannot be had
   * within the request's budget (the request is then marked degraded).
   */
  embed(ctx: RequestContext): Promise<Float32Array>;
  /**
   * Intent facts for rules (undefined when the request has no text); the "unavailable" facts when the embedding could not
   * be had in time. Also sets ctx.facts.intent and the reply header.
   */
  classify(ctx: RequestContext): Promise<SemanticFacts | undefined>;
  /** The request's semantic budget (shared with the cache stage). */
  budget(ctx: RequestContext): SemanticBudget;
}

export interface QuerySemanticsSettings {
  embedText: EmbedTextMode;
  maxWaitMs: number;
}

/** What the rules see when the request's embedding could not be had within its budget. */
export const UNAVAILABLE_FACTS: Readonly<SemanticFacts> = Object.freeze({
  intent: UNAVAILABLE_INTENT, score: 0, margin: 0, intents: Object.freeze({}), metadata: Object.freeze({}), ready: false,
});

/**
 * What a request turned away before it waits gets (see embedWithin): one rejected promise per reason, shared, so such a
 * request allocates no promise to learn it, and callers can tell them by identity.
 */
const TURNED_AWAY = {
  lagging: Promise.reject(SemanticUnavailable.of('lagging', 'embed')) as Promise<Float32Array>,
  busy: Promise.reject(SemanticUnavailable.of('busy', 'embed')) as Promise<Float32Array>,
};
const NO_TEXT: Promise<Float32Array> = Promise.reject(new Error('the request has no text to embed'));
for (const p of [TURNED_AWAY.lagging, TURNED_AWAY.busy, NO_TEXT]) p.catch(() => undefined); // each caller observes them
const isShared = (p: Promise<Float32Array>): boolean => p === TURNED_AWAY.lagging || p === TURNED_AWAY.busy || p === NO_TEXT;

/** Intent facts of a request without text (the rules see no intent). */
const NO_FACTS: Promise<undefined> = Promise.resolve(undefined);
const UNAVAILABLE_FACTS_NOW: Promise<SemanticFacts> = Promise.resolve(UNAVAILABLE_FACTS);

/** Marks the request's intent unavailable (facts and reply header) and gives the "unavailable" facts. */
function unavailable(ctx: RequestContext): Readonly<SemanticFacts> {
  ctx.facts.intent = UNAVAILABLE_INTENT;
  ctx.replyHeaders['x-switchyard-intent'] = UNAVAILABLE_INTENT;
  return UNAVAILABLE_FACTS;
}

/** A text that may queue: waited for within what is left of the budget; the outcome recorded on the budget. */
async function waitWithin(b: SemanticBudget, work: Promise<Float32Array>): Promise<Float32Array> {
  try {
    const v = await b.within(work, 'embed');
    b.ready();
    return v;
  } catch (err) {
    if (err instanceof EmbedderBusy) {
      // Refused after it queued: pushed out by another owner's text (fair-line.ts).
      b.degrade('busy', 'embed');
      throw SemanticUnavailable.of('busy', 'embed');
    }
    if (err instanceof SemanticUnavailable) b.degrade(err.reason, err.stage);
    throw err;
  }
}

export function createQuerySemantics(semantic: SemanticService, settings: () => QuerySemanticsSettings): QuerySemantics {
  const vectors = new RequestLocal<Promise<Float32Array>>('embedding');
  const facts = new RequestLocal<Promise<SemanticFacts | undefined>>('intent');
  const budget = (ctx: RequestContext): SemanticBudget => budgetOf(ctx, settings().maxWaitMs);

  /**
   * The embedding within the request's budget. Under overload most requests are turned away before they wait — the loop
   * already runs later than the budget (lagging), or the embedder refuses the text on arrival (busy) — and those are
   * settled in this turn: the request is marked degraded and gets one shared rejected promise, with no wait set up.
   */
  const embedWithin = (ctx: RequestContext, text: string): Promise<Float32Array> => {
    const b = budget(ctx);
    if (loopLagMs() > settings().maxWaitMs) {
      // The loop is already later than the whole budget: the work could not finish in time and would add to the backlog.
      b.degrade('lagging', 'embed');
      return TURNED_AWAY.lagging;
    }
    // The embedder refuses at once (busy) when the texts ahead would outlast what is left of the budget; the abort
    // signal is made only if the text has to queue. Its queue is fair between virtual keys.
    const work = semantic.embed(text, () => b.signal, b.remainingMs(), ctx.caller.virtualKeyId);
    if (work === EmbedderBusy.refusal) {
      b.degrade('busy', 'embed');
      return TURNED_AWAY.busy;
    }
    return waitWithin(b, work);
  };

  const embed = (ctx: RequestContext): Promise<Float32Array> => {
    let v = vectors.get(ctx);
    if (!v) {
      const text = textToEmbed(ctx.body, settings().embedText);
      v = text === '' ? NO_TEXT : embedWithin(ctx, text);
      if (!isShared(v)) v.catch(() => undefined); // a rejection is observed by whoever awaits it
      vectors.set(ctx, v);
    }
    return v;
  };

  /** The facts of a request with an embedding (also sets ctx.facts.intent and the reply header). */
  const factsOf = (ctx: RequestContext, vec: Float32Array): SemanticFacts => {
    const c = semantic.classify(vec);
    const intents: Record<string, number> = {};
    for (const t of c.top) intents[t.intent] = t.score;
    ctx.facts.intent = c.intent;
    ctx.facts.intent_score = c.score;
    ctx.replyHeaders['x-switchyard-intent'] = c.intent;
    return { intent: c.intent, score: c.score, margin: c.margin, intents, metadata: c.metadata, ready: true };
  };

  const classify = (ctx: RequestContext): Promise<SemanticFacts | undefined> => {
    let f = facts.get(ctx);
    if (f) return f;
    const v = embed(ctx);
    if (v === NO_TEXT) f = NO_FACTS;
    else if (v === TURNED_AWAY.lagging || v === TURNED_AWAY.busy) {
      unavailable(ctx);
      f = UNAVAILABLE_FACTS_NOW;
    } else {
      f = v.then((vec) => factsOf(ctx, vec), (err: unknown) => (err instanceof SemanticUnavailable ? unavailable(ctx) : undefined));
    }
    facts.set(ctx, f);
    return f;
  };

  return { embed, classify, budget };
}
