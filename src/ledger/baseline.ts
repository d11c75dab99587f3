/**
 * The counterfactual target of a request: the model the caller asked for (`provider/model`, or a bare model name at the
 * first provider that lists it), or for an alias the configured baseline (governance.ledger.baseline_models[alias], else
 * baseline_model), else the alias's first target — what it would have resolved to with no rule moving it. Pure.
 */
import type { Target } from '../pipeline/context.js';
import { parseTarget, type ModelTable } from '../pipeline/resolve-target.js';
import type { LedgerConfig } from './config.js';

const named = (s: string): Target => parseTarget(s) ?? { provider: '', model: s };

export function baselineTarget(requested: string, table: ModelTable, cfg: LedgerConfig, routed: Target | undefined): Target {
  const alias = table.aliases.get(requested);
  if (alias !== undefined) {
    const configured = cfg.baseline_models[requested] ?? cfg.baseline_model;
    if (configured !== undefined) return named(configured);
    const first = alias.targets[0]?.target;
    if (first !== undefined) return first;
  }
  const explicit = parseTarget(requested);
  if (explicit !== undefined && table.providers.has(explicit.provider)) return explicit;
  const bare = table.bareModels.get(requested)?.[0];
  if (bare !== undefined) return bare;
  return routed ?? { provider: '', model: requested };
}
