/**
 * Compiles a whole rule list into an immutable RuleSet: every expression parsed and type-checked once, names unique,
 * weights summing to 1, scope ids consistent, fallbacks parsed, providers known. Either the whole list compiles or the
 * caller gets every problem found, each naming the rule and its config path.
 */
import type { CachePolicy, Target } from '../pipeline/context.js';
import { compileExpression, type CelProgram } from './cel.js';
import { RULE_SCOPES, type RuleProblem, type RuleScope, type RuleSpec } from './config.js';
import { EXPENSIVE_GROUPS, groupsOf } from './variables.js';

export const WEIGHT_TOLERANCE = 1e-6;
/** Scope precedence: index 0 is evaluated first. */
export const SCOPE_ORDER: readonly RuleScope[] = RULE_SCOPES;

export interface CompiledRule {
  readonly name: string;
  readonly spec: RuleSpec;
  readonly scope: RuleScope;
  /** "" for global rules. */
  readonly scopeId: string;
  readonly priority: number;
  readonly enabled: boolean;
  readonly chain: boolean;
  readonly program: CelProgram;
  readonly references: ReadonlySet<string>;
  /** Reads a variable of an expensive group (embedding, capacity, cache similarity). */
  readonly expensive: boolean;
  readonly targets: readonly Target[];
  /** Cumulative weights, last element 1. */
  readonly cumulative: Float64Array;
  /** Replaces the default fallback chain when defined. */
  readonly fallbacks: readonly Target[] | undefined;
  readonly cache: CachePolicy | undefined;
  /** Safety action (block | redact) applied by the safety stage when this rule decides. */
  readonly action: 'block' | 'redact' | undefined;
}

export interface RuleSet {
  /** Every rule (enabled or not) in evaluation order: scope precedence, then priority ascending, then name. */
  readonly rules: readonly CompiledRule[];
  readonly byName: ReadonlyMap<string, CompiledRule>;
  /** Variables referenced by at least one enabled rule: the pipeline computes nothing else. */
  readonly references: ReadonlySet<string>;
  /** Enabled rules per scope and scope id, in evaluation order. */
  readonly buckets: {
    readonly virtual_key: ReadonlyMap<string, readonly CompiledRule[]>;
    readonly team: ReadonlyMap<string, readonly CompiledRule[]>;
    readonly customer: ReadonlyMap<string, readonly CompiledRule[]>;
    readonly global: readonly CompiledRule[];
  };
  /** The source specs, in input order. */
  readonly specs: readonly RuleSpec[];
}

/** Provider name → the models it lists (an empty list: the provider serves whatever model it is asked for). */
export type ProviderCatalog = ReadonlyMap<string, readonly string[]>;

export interface CompileOptions {
  /**
   * When given, targets, fallbacks, cascade tiers and judges naming another provider, or a model their provider does not
   * list, are rejected.
   */
  providers?: ProviderCatalog;
  /** Config path of each rule (same index as the input); defaults to `rules[i]`. */
  paths?: readonly string[];
}

export type CompileResult = { ok: true; ruleSet: RuleSet } | { ok: false; problems: RuleProblem[] };

const scopeRank = (s: RuleScope): number => SCOPE_ORDER.indexOf(s);

export function compareRules(a: CompiledRule, b: CompiledRule): number {
  return scopeRank(a.scope) - scopeRank(b.scope) || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function parseFallback(s: string): Target {
  const slash = s.indexOf('/');
  return { provider: s.slice(0, slash), model: s.slice(slash + 1) };
}

function compileOne(spec: RuleSpec, path: string, opts: CompileOptions, problems: RuleProblem[]): CompiledRule | undefined {
  const before = problems.length;
  const problem = (sub: string, message: string): void => {
    problems.push({ path: sub ? `${path}.${sub}` : path, rule: spec.name, message });
  };

  const expr = compileExpression(spec.cel_expression);
  if (!expr.ok) {
    const p = expr.problem;
    problem('cel_expression', `${p.message} (at ${p.line}:${p.column})`);
  }

  if (spec.scope === 'global' && spec.scope_id !== undefined) problem('scope_id', 'a global rule takes no scope_id');
  if (spec.scope !== 'global' && spec.scope_id === undefined) problem('scope_id', `required for scope '${spec.scope}'`);

  const given = spec.targets.filter((t) => t.weight !== undefined).length;
  let weights: number[];
  if (given === 0) weights = spec.targets.map(() => 1 / spec.targets.length);
  else if (given !== spec.targets.length) {
    problem('targets', 'give a weight on every target or on none');
    weights = [];
  } else {
    weights = spec.targets.map((t) => t.weight!);
    const sum = weights.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > WEIGHT_TOLERANCE) problem('targets', `weights must sum to 1, found ${Number(sum.toPrecision(12))}`);
  }

  const fallbacks = spec.fallbacks?.map(parseFallback);
  const catalog = opts.providers;
  if (catalog) {
    const check = (t: Target, sub: string, providerSub: string): void => {
      const models = catalog.get(t.provider);
      if (models === undefined) problem(providerSub, `unknown provider '${t.provider}'`);
      else if (models.length > 0 && !models.includes(t.model)) {
        problem(sub, `provider '${t.provider}' does not list model '${t.model}' (it lists: ${models.join(', ')})`);
      }
    };
    spec.targets.forEach((t, i) => check(t, `targets[${i}].model`, `targets[${i}].provider`));
    fallbacks?.forEach((t, i) => check(t, `fallbacks[${i}]`, `fallbacks[${i}]`));
    spec.cascade?.forEach((t, i) => {
      check(t, `cascade[${i}].model`, `cascade[${i}].provider`);
      const judge = t.checks.judge;
      if (judge) check(judge, `cascade[${i}].checks.judge.model`, `cascade[${i}].checks.judge.provider`);
    });
  }
  if (problems.length > before || !expr.ok) return undefined;

  const cumulative = new Float64Array(weights.length);
  let acc = 0;
  weights.forEach((w, i) => (cumulative[i] = acc += w));
  cumulative[cumulative.length - 1] = 1;

  return Object.freeze({
    name: spec.name,
    spec,
    scope: spec.scope,
    scopeId: spec.scope_id ?? '',
    priority: spec.priority,
    enabled: spec.enabled,
    chain: spec.chain_rule,
    program: expr.compiled.program,
    references: expr.compiled.references,
    expensive: [...groupsOf(expr.compiled.references)].some((g) => EXPENSIVE_GROUPS.has(g)),
    targets: Object.freeze(spec.targets.map((t) => Object.freeze({ provider: t.provider, model: t.model }))),
    cumulative,
    fallbacks: fallbacks && Object.freeze(fallbacks.map((t) => Object.freeze(t))),
    cache: spec.cache && Object.freeze({ ...spec.cache }),
    action: spec.action,
  });
}

function bucket(map: Map<string, CompiledRule[]>, key: string, rule: CompiledRule): void {
  const list = map.get(key);
  if (list) list.push(rule);
  else map.set(key, [rule]);
}

/** Compiles a whole rule list. Nothing is returned unless every rule compiles. */
export function compile(rules: readonly RuleSpec[], opts: CompileOptions = {}): CompileResult {
  const problems: RuleProblem[] = [];
  const seen = new Map<string, number>();
  const compiled: CompiledRule[] = [];
  rules.forEach((spec, i) => {
    const path = opts.paths?.[i] ?? `rules[${i}]`;
    const prev = seen.get(spec.name);
    if (prev !== undefined) {
      problems.push({ path: `${path}.name`, rule: spec.name, message: `duplicate rule name (also ${opts.paths?.[prev] ?? `rules[${prev}]`})` });
    }
    seen.set(spec.name, i);
    const c = compileOne(spec, path, opts, problems);
    if (c) compiled.push(c);
  });
  if (problems.length > 0) return { ok: false, problems };

  compiled.sort(compareRules);
  const vk = new Map<string, CompiledRule[]>();
  const team = new Map<string, CompiledRule[]>();
  const customer = new Map<string, CompiledRule[]>();
  const global: CompiledRule[] = [];
  const references = new Set<string>();
  for (const r of compiled) {
    if (!r.enabled) continue;
    for (const v of r.references) references.add(v);
    if (r.scope === 'virtual_key') bucket(vk, r.scopeId, r);
    else if (r.scope === 'team') bucket(team, r.scopeId, r);
    else if (r.scope === 'customer') bucket(customer, r.scopeId, r);
    else global.push(r);
  }
  const ruleSet: RuleSet = Object.freeze({
    rules: Object.freeze(compiled),
    byName: new Map(compiled.map((r) => [r.name, r])),
    references,
    buckets: Object.freeze({ virtual_key: vk, team, customer, global }),
    specs: Object.freeze([...rules]),
  });
  return { ok: true, ruleSet };
}

/** The empty rule set: every request takes the default route. */
export const EMPTY_RULE_SET: RuleSet = (() => {
  const r = compile([]);
  if (!r.ok) throw new Error('unreachable');
  return r.ruleSet;
})();

/** One line per problem: `rules[2].cel_expression (rule "x"): message`. */
export function formatProblems(problems: readonly RuleProblem[]): string {
  return problems.map((p) => `${p.path}${p.rule ? ` (rule "${p.rule}")` : ''}: ${p.message}`).join('; ');
}
