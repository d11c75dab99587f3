/**
 * Plugs the rules engine into the routing stage: fills only the variables the applicable rules reference, evaluates, and turns
 * a match into a chain (the rule's target, then its fallbacks or the target's default chain). Also produces the full trace for
 * the explain endpoint from the same inputs, so explain and routing never disagree.
 */
import { cascadeRoute } from '../cascade/route.js';
import { invalidRequest } from '../errors.js';
import { buildVariables, explain, hasApplicableRules, routeRequest, type EvaluateOptions, type Explanation, type RuleDecision, type RuleSet, type VariableInputs } from '../rules/index.js';
import type { SessionFacts } from '../sessions/index.js';
import type { RequestContext, RouteDecision, Target } from './context.js';
import { cascadePlan, type CascadePlan } from '../cascade/plan.js';
import { chainFor, resolveRequested, targetKey, type ModelTable } from './resolve-target.js';
import type { RuleDecider } from './route-stage.js';

export interface RuleDeciderDeps {
  ruleSet: () => RuleSet;
  /** Sources for the variables of one request (lazy getters for the expensive ones). */
  inputs: (ctx: RequestContext) => VariableInputs;
  onError?: EvaluateOptions['onError'];
}

function chainOf(ctx: RequestContext, table: ModelTable, target: Target, fallbacks: readonly Target[] | undefined): Target[] {
  const chain = chainFor(target, table, fallbacks).filter((t) => table.providers.get(t.provider)?.supports.has(ctx.op));
  if (chain.length === 0) throw invalidRequest(`The routed target ${target.provider}/${target.model} cannot serve this request type.`, 'model', 'unsupported_operation');
  return chain;
}

/**
 * A sticky rule's target for this request: the one of its targets that last answered the request's session, if any
 * (then the session keeps its model); else the rule's own weighted pick.
 */
async function stickyTarget(decision: RuleDecision, inputs: VariableInputs): Promise<Target | undefined> {
  if (!decision.sticky || !inputs.session) return undefined;
  const session = await inputs.session();
  return session.target === '' ? undefined : decision.sticky.find((t) => targetKey(t) === session.target);
}

function routeOf(ctx: RequestContext, table: ModelTable, decision: RuleDecision, kept: Target | undefined): RouteDecision {
  const route: RouteDecision = decision.cascade
    ? cascadeRoute(ctx, table, decision.rule, decision.cascade, decision.cascadeStreaming)
    : { chain: chainOf(ctx, table, kept ?? decision.target!, decision.fallbacks), rule: decision.rule };
  if (kept) route.sticky = true;
  if (decision.cache) route.cache = decision.cache;
  return route;
}

export function createRuleDecider(deps: RuleDeciderDeps): RuleDecider {
  async function decideWith(set: RuleSet, ctx: RequestContext, table: ModelTable): Promise<RouteDecision | undefined> {
    const inputs = deps.inputs(ctx);
    const { decision } = await routeRequest(set, ctx, inputs, { onError: deps.onError });
    if (!decision.matched || !decision.target) return undefined;
    if (decision.steps.length > 1) ctx.facts.rule_chain = decision.steps.map((s) => s.rule);
    return routeOf(ctx, table, decision, await stickyTarget(decision, inputs));
  }
  return function decideByRules(ctx, table) {
    const set = deps.ruleSet();
    return hasApplicableRules(set, ctx.caller) ? decideWith(set, ctx, table) : undefined;
  };
}

export interface ExplainResult extends Explanation {
  route:
    | { rule: string; chain: Target[]; cache?: RouteDecision['cache']; cascade?: CascadePlan; sticky?: boolean }
    | { error: { message: string; code: string | null } };
  /** The request's session as routing saw it (when sessions are on and the request has one). */
  session?: SessionFacts;
}

/** Every variable, every rule with its result, the chosen target and the chain — without calling any upstream. */
export async function explainRoute(ctx: RequestContext, table: ModelTable, deps: RuleDeciderDeps): Promise<ExplainResult> {
  const set = deps.ruleSet();
  const inputs = deps.inputs(ctx);
  const variables = await buildVariables(ctx, inputs);
  const trace = explain(set, variables, ctx.caller);
  const d = trace.decision;
  const session = inputs.session ? await inputs.session() : undefined;
  let route: ExplainResult['route'];
  try {
    if (d.matched && d.target) {
      const r = routeOf(ctx, table, d, await stickyTarget(d, inputs));
      route = {
        rule: d.rule, chain: r.chain, ...(d.cache ? { cache: d.cache } : {}), ...(r.cascade ? { cascade: cascadePlan(r, ctx.stream) } : {}),
        ...(r.sticky ? { sticky: true } : {}),
      };
    } else {
      route = { rule: 'default', chain: resolveRequested(ctx.model, ctx.op, table) };
    }
  } catch (err) {
    route = { error: { message: (err as Error).message, code: (err as { code?: string | null }).code ?? null } };
  }
  return { ...trace, route, ...(session && session.id !== '' ? { session } : {}) };
}
