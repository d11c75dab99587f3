/**
 * The rules stage's entry point: fills only the variables the caller's applicable enabled rules reference (so an
 * embedding, a Redis capacity read or a cache probe happens only when some rule reads it), then evaluates.
 */
import type { Caller, RequestContext } from '../pipeline/context.js';
import type { RuleSet } from './compile.js';
import { DEFAULT_DECISION, evaluate, evaluateCheapPrefix, type EvaluateOptions, type RuleDecision } from './engine.js';
import { buildVariables, EXPENSIVE_GROUPS, VARIABLES_BY_NAME, type VariableInputs } from './variables.js';

const perSet = new WeakMap<RuleSet, Map<string, ReadonlySet<string>>>();

function refsOf(list: readonly { references: ReadonlySet<string> }[] | undefined, out: Set<string>): void {
  if (list) for (const r of list) for (const v of r.references) out.add(v);
}

/** Variables referenced by the enabled rules that can apply to `caller` (global ones plus the caller's scopes). */
export function referencesFor(set: RuleSet, caller: Caller): ReadonlySet<string> {
  const b = set.buckets;
  const vk = caller.virtualKeyId !== '' ? b.virtual_key.get(caller.virtualKeyId) : undefined;
  const team = caller.teamId !== '' ? b.team.get(caller.teamId) : undefined;
  const customer = caller.customerId !== '' ? b.customer.get(caller.customerId) : undefined;
  const key = `${vk ? caller.virtualKeyId : ''}\u0000${team ? caller.teamId : ''}\u0000${customer ? caller.customerId : ''}`;
  let cache = perSet.get(set);
  if (!cache) perSet.set(set, (cache = new Map()));
  let refs = cache.get(key);
  if (!refs) {
    const s = new Set<string>();
    refsOf(vk, s);
    refsOf(team, s);
    refsOf(customer, s);
    refsOf(b.global, s);
    refs = s;
    cache.set(key, refs);
  }
  return refs;
}

interface Split {
  cheap: ReadonlySet<string>;
  expensive: ReadonlySet<string>;
}
const splits = new WeakMap<ReadonlySet<string>, Split>();

/** Splits references into cheap ones and those of expensive groups (cached per references set). */
function split(refs: ReadonlySet<string>): Split {
  let s = splits.get(refs);
  if (!s) {
    const cheap = new Set<string>();
    const expensive = new Set<string>();
    for (const v of refs) (EXPENSIVE_GROUPS.has(VARIABLES_BY_NAME.get(v)!.group) ? expensive : cheap).add(v);
    s = { cheap, expensive };
    splits.set(refs, s);
  }
  return s;
}

/** True when no enabled rule can apply to the caller: routing needs no variables at all. */
export function hasApplicableRules(set: RuleSet, caller: Caller): boolean {
  const b = set.buckets;
  return (
    b.global.length > 0 ||
    (caller.virtualKeyId !== '' && b.virtual_key.has(caller.virtualKeyId)) ||
    (caller.teamId !== '' && b.team.has(caller.teamId)) ||
    (caller.customerId !== '' && b.customer.has(caller.customerId))
  );
}

export interface RoutedRequest {
  decision: RuleDecision;
  /** The activation used (only referenced variables), for logs and explain. */
  variables: Record<string, unknown>;
}

/**
 * Builds the referenced variables for the request and evaluates the rule set. When expensive variables are referenced,
 * the rules ahead of the first rule needing one are tried on the cheap variables first: if one of them decides, no
 * embedding, capacity read or cache probe happens at all.
 */
export async function routeRequest(
  set: RuleSet,
  ctx: RequestContext,
  inputs: VariableInputs,
  opts: EvaluateOptions = {},
): Promise<RoutedRequest> {
  if (!hasApplicableRules(set, ctx.caller)) return { decision: DEFAULT_DECISION, variables: {} };
  const refs = referencesFor(set, ctx.caller);
  const { cheap, expensive } = split(refs);
  if (expensive.size === 0 || opts.trace) {
    const variables = await buildVariables(ctx, inputs, refs);
    return { decision: evaluate(set, variables, ctx.caller, opts), variables };
  }
  const variables = await buildVariables(ctx, inputs, cheap);
  const early = evaluateCheapPrefix(set, variables, ctx.caller, opts);
  if (early) return { decision: early, variables };
  Object.assign(variables, await buildVariables(ctx, inputs, expensive));
  return { decision: evaluate(set, variables, ctx.caller, opts), variables };
}
