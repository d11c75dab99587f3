/**
 * Rule evaluation. Scopes in order virtual_key > team > customer > global (a scoped rule applies only when its scope_id is
 * the caller's id at that level), then priority ascending, ties by name; the first rule whose expression is true wins and
 * picks one of its targets by weight. A `chain_rule` re-evaluates with `model`/`provider` set to the resolved target, at
 * most MAX_CHAIN_STEPS times and each rule at most once per chain.
 *
 * The fast path walks only the caller's buckets; with a trace it walks every rule in the same order and records why each
 * did or did not match. Both share the decision code, so explain and routing never disagree.
 */
import type { CascadeStreaming, CascadeTier } from '../cascade/types.js';
import type { CachePolicy, Caller, RouteDecision, Target } from '../pipeline/context.js';
import { evaluationMessage } from './cel.js';
import type { CompiledRule, RuleSet } from './compile.js';
import type { RuleScope } from './config.js';
import { seededRandom as seededPrng } from '../util/seeded-random.js';

export const MAX_CHAIN_STEPS = 10;

/** Uniform [0, 1). */
export type Rng = () => number;

export type StepResult = 'match' | 'no_match' | 'error' | 'skipped_scope' | 'disabled' | 'already_used';

export interface TraceStep {
  /** 0 for the first evaluation, n for the n-th chained re-evaluation. */
  chain_step: number;
  rule: string;
  scope: RuleScope;
  scope_id?: string;
  priority: number;
  result: StepResult;
  error?: string;
  /** The target picked, on a match. */
  target?: Target;
}

/** One resolved step of a (possibly chained) decision. */
export interface ChainStep {
  rule: string;
  scope: RuleScope;
  target: Target;
}

export interface RuleDecision {
  /** False when no rule matched: the requested model routes as before. */
  matched: boolean;
  /** The last rule that resolved a target, or 'default'. */
  rule: string;
  /** Final target (after chaining); undefined when nothing matched. */
  target: Target | undefined;
  /** Replaces the default fallback chain when defined (the latest step's rule that declares fallbacks). */
  fallbacks: readonly Target[] | undefined;
  /** Cache policy merged over the steps, later steps overriding field by field. */
  cache: CachePolicy | undefined;
  steps: readonly ChainStep[];
  /** The chain stopped at MAX_CHAIN_STEPS while the last rule still asked to chain. */
  truncated: boolean;
  /** The deciding rule's cascade tiers (its target is then the first tier). */
  cascade?: readonly CascadeTier[];
  cascadeStreaming?: CascadeStreaming;
  /** A sticky deciding rule's targets: a session last answered by one of them goes there again (see src/sessions). */
  sticky?: readonly Target[];
}

/** The deciding rule's cascade and session fields, when it has them. */
function cascadeOf(r: CompiledRule): Pick<RuleDecision, 'cascade' | 'cascadeStreaming' | 'sticky'> {
  const sticky = r.spec.sticky ? { sticky: r.targets } : {};
  const c = r.spec.cascade;
  if (!c) return sticky;
  const s = r.spec.cascade_streaming;
  return s ? { cascade: c, cascadeStreaming: s } : { cascade: c };
}

export interface EvaluateOptions {
  /** Source of randomness for the weighted pick (default Math.random). */
  rng?: Rng;
  /** Called when a rule's expression fails at run time (the rule counts as not matching). */
  onError?: (rule: CompiledRule, err: unknown) => void;
  /** When given, every rule considered is appended here with its result. */
  trace?: TraceStep[];
}

export const DEFAULT_DECISION: RuleDecision = Object.freeze({
  matched: false,
  rule: 'default',
  target: undefined,
  fallbacks: undefined,
  cache: undefined,
  steps: Object.freeze([]),
  truncated: false,
});

function applies(r: CompiledRule, caller: Caller): boolean {
  switch (r.scope) {
    case 'global': return true;
    case 'virtual_key': return caller.virtualKeyId !== '' && caller.virtualKeyId === r.scopeId;
    case 'team': return caller.teamId !== '' && caller.teamId === r.scopeId;
    case 'customer': return caller.customerId !== '' && caller.customerId === r.scopeId;
  }
}

/** Runs one rule's expression; anything but `true` is no match, a throw is an error (reported, no match). */
function test(r: CompiledRule, act: Record<string, unknown>, opts: EvaluateOptions): true | false | { error: unknown } {
  try {
    return r.program(act) === true;
  } catch (err) {
    opts.onError?.(r, err);
    return { error: err };
  }
}

/** Returned by the prefix walk when it reaches a rule that needs an expensive variable. */
const NEEDS_MORE = Symbol('needs-more');
type Found = CompiledRule | undefined | typeof NEEDS_MORE;

function firstInList(
  list: readonly CompiledRule[] | undefined,
  act: Record<string, unknown>,
  used: ReadonlySet<CompiledRule>,
  opts: EvaluateOptions,
  prefix: boolean,
): Found {
  if (!list) return undefined;
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (used.size !== 0 && used.has(r)) continue;
    if (prefix && r.expensive) return NEEDS_MORE;
    if (test(r, act, opts) === true) return r;
  }
  return undefined;
}

function firstMatchFast(
  set: RuleSet,
  act: Record<string, unknown>,
  caller: Caller,
  used: ReadonlySet<CompiledRule>,
  opts: EvaluateOptions,
  prefix = false,
): Found {
  const b = set.buckets;
  return (
    (caller.virtualKeyId !== '' ? firstInList(b.virtual_key.get(caller.virtualKeyId), act, used, opts, prefix) : undefined) ??
    (caller.teamId !== '' ? firstInList(b.team.get(caller.teamId), act, used, opts, prefix) : undefined) ??
    (caller.customerId !== '' ? firstInList(b.customer.get(caller.customerId), act, used, opts, prefix) : undefined) ??
    firstInList(b.global, act, used, opts, prefix)
  );
}

/**
 * Evaluates only the rules that precede the first applicable rule reading an expensive variable (embedding, capacity,
 * cache similarity), with `vars` lacking those variables. Returns the decision when one of them matches without chaining —
 * the same decision full evaluation would reach — else undefined (the caller then loads everything and evaluates).
 * Runtime errors are reported only when the decision is returned, so a fall-through never counts them twice.
 */
export function evaluateCheapPrefix(
  set: RuleSet,
  vars: Record<string, unknown>,
  caller: Caller,
  opts: Omit<EvaluateOptions, 'trace'> = {},
): RuleDecision | undefined {
  const errors: [CompiledRule, unknown][] = [];
  const quiet: EvaluateOptions = { onError: (r, e) => errors.push([r, e]) };
  const found = firstMatchFast(set, vars, caller, new Set(), quiet, true);
  if (found === NEEDS_MORE || (found !== undefined && found.chain)) return undefined;
  for (const [r, e] of errors) opts.onError?.(r, e);
  if (found === undefined) return DEFAULT_DECISION;
  const target = pickTarget(found, opts.rng ?? Math.random);
  return {
    matched: true,
    rule: found.name,
    target,
    fallbacks: found.fallbacks,
    cache: found.cache,
    steps: [{ rule: found.name, scope: found.scope, target }],
    truncated: false,
    ...cascadeOf(found),
  };
}

function firstMatchTraced(
  set: RuleSet,
  act: Record<string, unknown>,
  caller: Caller,
  used: ReadonlySet<CompiledRule>,
  opts: EvaluateOptions,
  trace: TraceStep[],
  chainStep: number,
): CompiledRule | undefined {
  for (const r of set.rules) {
    const step: TraceStep = { chain_step: chainStep, rule: r.name, scope: r.scope, priority: r.priority, result: 'no_match' };
    if (r.scopeId !== '') step.scope_id = r.scopeId;
    trace.push(step);
    if (!r.enabled) step.result = 'disabled';
    else if (!applies(r, caller)) step.result = 'skipped_scope';
    else if (used.has(r)) step.result = 'already_used';
    else {
      const res = test(r, act, opts);
      if (res === true) {
        step.result = 'match';
        return r;
      }
      if (res !== false) {
        step.result = 'error';
        step.error = evaluationMessage(res.error);
      }
    }
  }
  return undefined;
}

/** Picks a target by the rule's cumulative weights. */
export function pickTarget(r: CompiledRule, rng: Rng): Target {
  const t = r.targets;
  if (t.length === 1) return t[0]!;
  const u = rng();
  const c = r.cumulative;
  for (let i = 0; i < c.length; i++) if (u < c[i]!) return t[i]!;
  return t[t.length - 1]!;
}

/** Evaluates the rule set for one request. `vars` is the activation from buildVariables. */
export function evaluate(set: RuleSet, vars: Record<string, unknown>, caller: Caller, opts: EvaluateOptions = {}): RuleDecision {
  if (set.rules.length === 0) return DEFAULT_DECISION;
  const rng = opts.rng ?? Math.random;
  const used = new Set<CompiledRule>();
  const steps: ChainStep[] = [];
  let act = vars;
  let target: Target | undefined;
  let last: CompiledRule | undefined;
  let fallbacks: readonly Target[] | undefined;
  let cache: CachePolicy | undefined;
  let truncated = false;
  for (let n = 0; n < MAX_CHAIN_STEPS; n++) {
    const r = opts.trace
      ? firstMatchTraced(set, act, caller, used, opts, opts.trace, n)
      : (firstMatchFast(set, act, caller, used, opts) as CompiledRule | undefined);
    if (!r) break;
    used.add(r);
    target = pickTarget(r, rng);
    if (opts.trace) opts.trace[opts.trace.length - 1]!.target = target;
    last = r;
    steps.push({ rule: r.name, scope: r.scope, target });
    if (r.fallbacks) fallbacks = r.fallbacks;
    if (r.cache) cache = cache ? { ...cache, ...r.cache } : r.cache;
    if (!r.chain) break;
    if (n === MAX_CHAIN_STEPS - 1) {
      truncated = true;
      break;
    }
    act = { ...vars, model: target.model, provider: target.provider };
  }
  if (!last) return DEFAULT_DECISION;
  return { matched: true, rule: last.name, target, fallbacks, cache, steps, truncated, ...cascadeOf(last) };
}

export interface Explanation {
  /** The activation, JSON-safe (CEL ints as numbers). */
  variables: Record<string, unknown>;
  steps: TraceStep[];
  decision: RuleDecision;
}

/** Evaluates with a full trace: every rule considered, in order, with its result. */
export function explain(set: RuleSet, vars: Record<string, unknown>, caller: Caller, opts: Omit<EvaluateOptions, 'trace'> = {}): Explanation {
  const steps: TraceStep[] = [];
  const decision = evaluate(set, vars, caller, { ...opts, trace: steps });
  return { variables: jsonSafe(vars) as Record<string, unknown>, steps, decision };
}

/** Converts CEL runtime values (bigint) to JSON-safe ones. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), jsonSafe(x)]));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = jsonSafe(x);
    return out;
  }
  return v;
}

/**
 * The route for a decision: the rule's target, then its fallbacks or `defaultFallbacks`. Undefined for the default
 * decision (the requested model routes as before).
 */
export function toRouteDecision(decision: RuleDecision, defaultFallbacks: readonly Target[] = []): RouteDecision | undefined {
  if (!decision.matched || !decision.target) return undefined;
  if (decision.cascade) {
    const out: RouteDecision = { chain: decision.cascade.map((t) => ({ provider: t.provider, model: t.model })), rule: decision.rule, cascade: decision.cascade };
    if (decision.cascadeStreaming) out.cascadeStreaming = decision.cascadeStreaming;
    if (decision.cache) out.cache = decision.cache;
    return out;
  }
  const chain = [decision.target, ...(decision.fallbacks ?? defaultFallbacks)];
  return decision.cache ? { chain, rule: decision.rule, cache: decision.cache } : { chain, rule: decision.rule };
}

/** A small seeded PRNG for reproducible weighted picks. */
export const seededRandom: (seed: number) => Rng = seededPrng;
