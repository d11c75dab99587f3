/**
 * Routing stage: decides the chain of targets for the request. Rules (when any) decide first; otherwise the requested model
 * or alias resolves through the model table. Runs once per request.
 */
import type { ModelTable } from './resolve-target.js';
import { chainResolver } from './resolve-target.js';
import type { RequestContext, RouteDecision } from './context.js';
import type { Stage } from './stage.js';

/**
 * A rules engine plugged into routing: a decision, or undefined to route the requested model as is — synchronously when no
 * rule applies to the caller, so such a request does not wait a tick for nothing.
 */
export type RuleDecider = (ctx: RequestContext, table: ModelTable) => Promise<RouteDecision | undefined> | undefined;

export function createRouteStage(table: ModelTable, decide?: RuleDecider): Stage {
  const resolve = chainResolver(table);
  const route = (ctx: RequestContext, decided: RouteDecision | undefined): void => {
    ctx.route = decided ?? { chain: resolve(ctx.model, ctx.op), rule: 'default' };
    ctx.replyHeaders['x-switchyard-rule'] = ctx.route.rule;
  };
  return {
    name: 'route',
    before(ctx) {
      const pending = decide?.(ctx, table);
      if (pending === undefined) return route(ctx, undefined);
      return pending.then((decided) => route(ctx, decided));
    },
  };
}
