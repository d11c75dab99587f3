/**
 * The models the config names, by provider: the same set that gets health lanes (src/providers/lane-layout.ts — the
 * providers' model lists, the aliases' targets and fallbacks, the routing fallbacks, the safety routes, and the rules'
 * targets, fallbacks, cascade tiers and judges). The `model` label of the metrics holds these only: a caller may name any
 * model of a configured provider (`provider/<model>` is passed through), and every label keeps its first `label_cap`
 * values, so a caller's made-up names would otherwise take them from the configured models. Rebuilt when the runtime or
 * the rules change; a lookup is two Map reads.
 */
import type { ProviderLayout } from '../providers/health-registry.js';

export type ModelNames = ReadonlyMap<string, ReadonlySet<string>>;

/** The named models of every provider in `layout`. */
export const namedModels = (layout: Readonly<Record<string, ProviderLayout>>): ModelNames =>
  new Map(Object.entries(layout).map(([provider, l]) => [provider, l.models]));

/** Whether the config names `model` for `provider`. */
export const isNamed = (names: ModelNames, provider: string, model: string): boolean => names.get(provider)?.has(model) === true;
