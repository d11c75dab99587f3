/**
 * Which upstream models get a health lane of their own on every key of a provider that serves them (its `models` patterns;
 * src/providers/key-health.ts): the models
 * the provider's config names (its `models` list without patterns, its Azure deployments, its keys' model lists) and
 * every model a route target names — aliases and their fallbacks, routing.fallbacks, safety routes, and the routing rules'
 * targets, fallbacks, cascade tiers and judges. All of these come from the config file or the admin API, never from a
 * request, so the lanes a key holds are bounded by the config; a model name only a caller chose shares the key's one
 * shared lane.
 */
import type { Config } from '../config/schema.js';
import type { Target } from '../pipeline/context.js';
import { parseTarget } from '../pipeline/resolve-target.js';
import type { ProviderLayout } from './health-registry.js';

const named = (m: string): boolean => !m.endsWith('*');

/** Every provider's key ids and named models: the config's own, plus `routeTargets` (the routing rules'). */
export function laneLayout(config: Config, routeTargets: Iterable<Target>): Record<string, ProviderLayout> {
  const models = new Map<string, Set<string>>();
  const out: Record<string, ProviderLayout> = {};
  for (const [name, p] of Object.entries(config.providers)) {
    const set = new Set<string>([...p.models.filter(named), ...Object.keys(p.deployments ?? {})]);
    for (const k of p.keys) for (const m of k.models) if (named(m)) set.add(m);
    models.set(name, set);
    out[name] = {
      keys: p.keys.map((k) => k.id), models: set, serves: new Map(p.keys.map((k) => [k.id, k.models])),
      passThrough: p.models.length === 0 || p.models.some((m) => !named(m)),
    };
  }
  const add = (t: Target | undefined): void => {
    if (t !== undefined) models.get(t.provider)?.add(t.model);
  };
  const addText = (s: string | undefined): void => add(s === undefined ? undefined : parseTarget(s));
  for (const a of Object.values(config.aliases)) {
    for (const t of a.targets) addText(t.target);
    for (const t of a.fallbacks) addText(t);
  }
  for (const [from, chain] of Object.entries(config.routing.fallbacks)) {
    addText(from);
    for (const t of chain) addText(t);
  }
  addText(config.safety.pii.target);
  addText(config.safety.jailbreak.target);
  for (const t of routeTargets) add(t);
  return out;
}

/** The models the routing rules send requests to: targets, fallbacks, cascade tiers and their judges. */
export function* ruleTargets(rules: Iterable<{ targets: readonly Target[]; fallbacks: readonly Target[] | undefined; spec: { cascade?: ReadonlyArray<Target & { checks: { judge?: Target | undefined } }> | undefined } }>): IterableIterator<Target> {
  for (const r of rules) {
    yield* r.targets;
    if (r.fallbacks) yield* r.fallbacks;
    for (const tier of r.spec.cascade ?? []) {
      yield tier;
      if (tier.checks.judge) yield tier.checks.judge;
    }
  }
}
