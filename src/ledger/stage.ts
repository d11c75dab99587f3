/**
 * The ledger stage: records every delivered reply's spend and savings, placed before the cache so cache hits are recorded too
 * (a hit costs nothing and saves what the routed model would have cost). Streams are recorded when they end. Runs once per
 * request; refused and failed requests record nothing (nothing was paid).
 */
import { billedParts, observeUsage } from '../governance/billing.js';
import type { Pricing } from '../governance/pricing.js';
import { estimatePromptTokens } from '../governance/tokens.js';
import { afterReply } from '../pipeline/after-reply.js';
import { answeringTarget } from '../pipeline/answering-target.js';
import type { RequestContext, Target } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import type { ProviderReply, Usage } from '../providers/types.js';
import { priceRequest } from './entry.js';
import type { Ledger } from './ledger.js';

export interface LedgerStageDeps {
  ledger: Ledger;
  pricing: () => Pricing;
  /** The counterfactual target of a request (./baseline.ts over the live model table). */
  baseline: (ctx: RequestContext) => Target;
  now?: () => number;
}

const NO_USAGE: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

interface CacheFacts {
  outcome?: string;
  usage?: Usage;
}

const textOf = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The intent a request was classified as (a name, or { intent | name }), '' when it was not. */
function intentOf(facts: Record<string, unknown>): string {
  const f = facts.intent ?? facts.semantic;
  if (typeof f === 'string') return f;
  if (typeof f === 'object' && f !== null) {
    const o = f as { intent?: unknown; name?: unknown };
    return textOf(o.intent) || textOf(o.name);
  }
  return '';
}

export function createLedgerStage(deps: LedgerStageDeps): Stage {
  const now = deps.now ?? Date.now;

  const record = (ctx: RequestContext, answered: Target, usage: Usage, hit: boolean, cache: string): void => {
    const parts = hit ? [] : billedParts(ctx, answered, usage);
    // The delivered answer is the last part that ran on the answering model (a cascade's final tier), else the reply's usage.
    let answerUsage = usage;
    for (let i = parts.length - 1; i >= 0; i--) {
      if (parts[i].target.provider === answered.provider && parts[i].target.model === answered.model) {
        answerUsage = parts[i].usage;
        break;
      }
    }
    const amounts = priceRequest(deps.pricing(), { baseline: deps.baseline(ctx), answered, parts, usage: answerUsage, hit });
    const c = ctx.caller;
    deps.ledger.record({
      at: now(),
      dims: [c.virtualKeyId, c.teamId, c.customerId, answered.provider, answered.model, ctx.route?.rule ?? '', intentOf(ctx.facts), cache],
      amounts,
    });
  };

  return {
    name: 'ledger',
    before() {
      // Nothing to do before: the hook marks the stage as run, so `after` sees the reply (a cache hit included).
    },
    after(ctx: RequestContext, reply: ProviderReply): ProviderReply {
      if (!deps.ledger.config.enabled) return reply;
      const routed: Target = ctx.route?.chain[0] ?? { provider: '', model: ctx.model };
      const cache = ctx.facts.cache as CacheFacts | undefined;
      const outcome = cache?.outcome ?? '';
      if (outcome === 'hit-exact' || outcome === 'hit-semantic') {
        afterReply(ctx, () => record(ctx, routed, cache?.usage ?? NO_USAGE, true, outcome));
        return reply;
      }
      return observeUsage(ctx, reply, () => estimatePromptTokens(ctx.body), (usage) => record(ctx, answeringTarget(ctx, routed), usage, false, outcome));
    },
  };
}
