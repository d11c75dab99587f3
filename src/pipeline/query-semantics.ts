/**
 * The request's meaning, computed lazily and at most once per request: the embedding of its text (shared by the cache and
 * the classifier) and its intent classification. Nothing is embedded unless a rule, the cache or an endpoint asks.
 */
import type { SemanticFacts } from '../rules/index.js';
import type { EmbedTextMode } from '../semantic/config.js';
import { textToEmbed, type SemanticService } from '../semantic/service.js';
import type { RequestContext } from './context.js';

export interface QuerySemantics {
  /** The embedding of the request's text; rejects when it has none. */
  embed(ctx: RequestContext): Promise<Float32Array>;
  /** Intent facts for rules (undefined when the request has no text). Also sets ctx.facts.intent and the reply header. */
  classify(ctx: RequestContext): Promise<SemanticFacts | undefined>;
}

export function createQuerySemantics(semantic: SemanticService, mode: () => EmbedTextMode): QuerySemantics {
  const vectors = new WeakMap<RequestContext, Promise<Float32Array>>();
  const facts = new WeakMap<RequestContext, Promise<SemanticFacts | undefined>>();

  const embed = (ctx: RequestContext): Promise<Float32Array> => {
    let v = vectors.get(ctx);
    if (!v) {
      const text = textToEmbed(ctx.body, mode());
      v = text === '' ? Promise.reject(new Error('the request has no text to embed')) : semantic.embed(text);
      v.catch(() => undefined); // a rejection is observed by whoever awaits it
      vectors.set(ctx, v);
    }
    return v;
  };

  const classify = (ctx: RequestContext): Promise<SemanticFacts | undefined> => {
    let f = facts.get(ctx);
    if (!f) {
      f = embed(ctx).then(
        (vec) => {
          const c = semantic.classify(vec);
          const intents: Record<string, number> = {};
          for (const t of c.top) intents[t.intent] = t.score;
          ctx.facts.intent = c.intent;
          ctx.facts.intent_score = c.score;
          ctx.replyHeaders['x-switchyard-intent'] = c.intent;
          return { intent: c.intent, score: c.score, margin: c.margin, intents, metadata: c.metadata };
        },
        () => undefined,
      );
      facts.set(ctx, f);
    }
    return f;
  };

  return { embed, classify };
}
