/**
 * Model addressing: turns what the caller asked for (`provider/model`, an alias, or a bare model name a provider lists) into an
 * ordered chain of targets — the primary first, then the fallbacks. Pure given the model table.
 */
import { invalidRequest, modelNotFound, noProviderConfigured } from '../errors.js';
import type { Operation } from '../providers/types.js';
import type { Target } from './context.js';

export interface WeightedTarget {
  target: Target;
  weight: number;
}

export interface ModelTable {
  providers: ReadonlyMap<string, { supports: ReadonlySet<Operation> }>;
  aliases: ReadonlyMap<string, { targets: WeightedTarget[]; fallbacks: Target[] }>;
  /** Bare model name → providers that list it, in config order. */
  bareModels: ReadonlyMap<string, Target[]>;
  /** "provider/model" or alias → default fallback chain. */
  fallbacks: ReadonlyMap<string, Target[]>;
}

export function parseTarget(s: string): Target | undefined {
  const slash = s.indexOf('/');
  if (slash <= 0 || slash === s.length - 1) return undefined;
  return { provider: s.slice(0, slash), model: s.slice(slash + 1) };
}

export const targetKey = (t: Target): string => `${t.provider}/${t.model}`;

/** Weighted random pick; returns the chosen index. */
export function pickWeighted(weights: readonly number[], random: () => number = Math.random): number {
  let total = 0;
  for (const w of weights) total += w;
  let r = random() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i];
    if (r < 0) return i;
  }
  return weights.length - 1;
}

function dedupe(chain: Target[]): Target[] {
  const seen = new Set<string>();
  return chain.filter((t) => {
    const k = targetKey(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Chain for an explicit primary: the given fallbacks, else the table's default chain for the primary (or the alias it came from). */
export function chainFor(primary: Target, table: ModelTable, fallbacks?: readonly Target[], aliasName?: string): Target[] {
  const fb = fallbacks ?? table.fallbacks.get(targetKey(primary)) ?? (aliasName ? table.fallbacks.get(aliasName) : undefined) ?? [];
  return dedupe([primary, ...fb]);
}

/**
 * Resolves the requested model. Aliases pick one target by weight; the alias's other targets and fallbacks follow it in the chain.
 * Targets whose provider cannot serve the operation are dropped; if none is left the request is refused.
 */
export function resolveRequested(model: string, op: Operation, table: ModelTable, random: () => number = Math.random): Target[] {
  let chain: Target[];
  const alias = table.aliases.get(model);
  if (alias) {
    const i = pickWeighted(alias.targets.map((t) => t.weight), random);
    const rest = alias.targets.filter((_, j) => j !== i).sort((a, b) => b.weight - a.weight).map((t) => t.target);
    chain = dedupe([alias.targets[i].target, ...rest, ...(alias.fallbacks.length ? alias.fallbacks : table.fallbacks.get(model) ?? [])]);
  } else {
    const explicit = parseTarget(model);
    if (explicit && table.providers.has(explicit.provider)) {
      chain = chainFor(explicit, table);
    } else {
      const listed = table.bareModels.get(model);
      if (!listed || listed.length === 0) throw table.providers.size === 0 ? noProviderConfigured() : modelNotFound(model);
      chain = dedupe([...listed.slice(0, 1), ...(table.fallbacks.get(model) ?? listed.slice(1))]);
    }
  }
  const served = chain.filter((t) => table.providers.get(t.provider)?.supports.has(op));
  if (served.length === 0) {
    throw invalidRequest(`The model '${model}' cannot serve ${op === 'embedding' ? 'embeddings' : op === 'completion' ? 'text completions' : 'chat completions'}.`, 'model', 'unsupported_operation');
  }
  return served;
}

/** Most chains a resolver keeps (model names come from callers, so the memo is bounded: cleared when full). */
const MEMO_CAP = 1024;

/**
 * `resolveRequested` for one model table, keeping the chain of each plain model name (bare, or provider/model): it depends
 * only on the table, which is rebuilt whole on reload, so it is resolved once rather than per request. An alias still draws
 * its weighted pick per request. Kept chains are frozen: every request routed there shares them.
 */
export function chainResolver(table: ModelTable): (model: string, op: Operation) => Target[] {
  const memo = new Map<string, Target[]>();
  return function resolve(model, op) {
    if (table.aliases.has(model)) return resolveRequested(model, op, table);
    const key = `${op} ${model}`;
    let chain = memo.get(key);
    if (chain === undefined) {
      chain = Object.freeze(resolveRequested(model, op, table)) as Target[];
      if (memo.size >= MEMO_CAP) memo.clear();
      memo.set(key, chain);
    }
    return chain;
  };
}
