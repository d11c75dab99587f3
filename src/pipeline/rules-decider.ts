/**
 * Plugs the rules engine into the routing stage: fills only the variables the applicable rules reference, evaluates, and turns
 * a match into a chain (the rule's target, then its fallbacks or the target's default chain). Also produces the full trace for
 * the explain endpoint from the same inputs, so explain and routing never disagree.
 */
import { cascadeRoute } from '../cascade/route.js';
import { invalidRequest } from '../errors.js';
import { buildVariables, explain, hasApplicableRules, routeRequest, type EvaluateOptions, type Explanation, type RuleSet, type VariableInputs } from '../rules/index.js';
import type { RequestContext, RouteDecision, Target } from './context.js';
import { cascadePlan, type CascadePlan } from '../cascade/plan.js';
import { chainFor, resolveRequested, type ModelTable } from './resolve-target.js';
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

export function createRuleDecider(deps: RuleDeciderDeps): RuleDecider {
  return async function decideByRules(ctx, table): Promise<RouteDecision | undefined> {
    const set = deps.ruleSet();
    if (!hasApplicableRules(set, ctx.caller)) return undefined;
    const { decision } = await routeRequest(set, ctx, deps.inputs(ctx), { onError: deps.onError });
    if (!decision.matched || !decision.target) return undefined;
    if (decision.steps.length > 1) ctx.facts.rule_chain = decision.steps.map((s) => s.rule);
    const route: RouteDecision = decision.cascade
      ? cascadeRoute(ctx, table, decision.rule, decision.cascade, decision.cascadeStreaming)
      : { chain: chainOf(ctx, table, decision.target, decision.fallbacks), rule: decision.rule };
    if (decision.cache) route.cache = decision.cache;
    return route;
  };
}

export interface ExplainResult extends Explanation {
  route:
    | { rule: string; chain: Target[]; cache?: RouteDecision['cache']; cascade?: CascadePlan }
    | { error: { message: string; code: string | null } };
}

/** Every variable, every rule with its result, the chosen target and the chain — without calling any upstream. */
export async function explainRoute(ctx: RequestContext, table: ModelTable, deps: RuleDeciderDeps): Promise<ExplainResult> {
  const set = deps.ruleSet();
  const variables = await buildVariables(ctx, deps.inputs(ctx));
  const trace = explain(set, variables, ctx.caller);
  const d = trace.decision;
  let route: ExplainResult['route'];
  try {
    if (d.matched && d.target && d.cascade) {
      const r = cascadeRoute(ctx, table, d.rule, d.cascade, d.cascadeStreaming);
      route = { rule: d.rule, chain: r.chain, ...(d.cache ? { cache: d.cache } : {}), ...(r.cascade ? { cascade: cascadePlan(r, ctx.stream) } : {}) };
    } else {
      route = d.matched && d.target
        ? { rule: d.rule, chain: chainOf(ctx, table, d.target, d.fallbacks), ...(d.cache ? { cache: d.cache } : {}) }
        : { rule: 'default', chain: resolveRequested(ctx.model, ctx.op, table) };
    }
  } catch (err) {
    route = { error: { message: (err as Error).message, code: (err as { code?: string | null }).code ?? null } };
  }
  return { ...trace, route };
}
