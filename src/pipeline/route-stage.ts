/**
 * Routing stage: decides the chain of targets for the request. Rules (when any) decide first; otherwise the requested model
 * or alias resolves through the model table. Runs once per request.
 */
import type { ModelTable } from './resolve-target.js';
import { resolveRequested } from './resolve-target.js';
import type { RequestContext, RouteDecision } from './context.js';
import type { Stage } from './stage.js';

/** A rules engine plugged into routing: returns a decision, or undefined to route the requested model as is. */
export type RuleDecider = (ctx: RequestContext, table: ModelTable) => Promise<RouteDecision | undefined>;

export function createRouteStage(table: ModelTable, decide?: RuleDecider): Stage {
  return {
    name: 'route',
    async before(ctx) {
      const decided = decide ? await decide(ctx, table) : undefined;
      ctx.route = decided ?? { chain: resolveRequested(ctx.model, ctx.op, table), rule: 'default' };
      ctx.replyHeaders['x-switchyard-rule'] = ctx.route.rule;
    },
  };
}
