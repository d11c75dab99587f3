/**
 * Provider health as CEL values: the `health` variable's maps, converted as a rule reads them (src/rules/variables.ts
 * declares the variable). Counts are CEL ints.
 */
import type { HealthFigures, ProviderHealthView } from '../providers/health-registry.js';
import { celMap } from './cel-values.js';
import type { HealthSnapshot } from './variables.js';

/** A count as a CEL int. */
export const int = (n: number): bigint => BigInt(Math.trunc(n));

/** The figures a key and a provider share, as CEL values (counts as int). */
function figuresForCel(f: HealthFigures): Record<string, unknown> {
  return {
    error_rate: f.error_rate, requests: int(f.requests), p50_ms: f.p50_ms, p95_ms: f.p95_ms, ttfb_p50_ms: f.ttfb_p50_ms,
    ttfb_p95_ms: f.ttfb_p95_ms, in_flight: int(f.in_flight), headroom: f.headroom,
  };
}

/**
 * The health snapshot as CEL values, converted as a rule reads them: a provider's view is read from the snapshot (which may
 * compute it only then: HealthRegistry.lazySnapshot) when a rule first reads one of its fields, and its `keys`, `models`
 * and each key's `models` are converted when first read. With a lane per key and model, converting every lane of every
 * provider for each request cost more than the rest of routing, and a rule reads a handful of them. Each provider and key
 * is a Proxy over one shared template of its fields (own and enumerable, so CEL reads it as any map): a proxy costs a
 * fraction of a microsecond to make, where an object with getters costs several.
 */
export function healthForCel(h: HealthSnapshot): CelMap {
  const out: Record<string, Record<string, unknown>> = {};
  for (const name in h) out[name] = new Proxy(PROVIDER_FIELDS, new ProviderForCel(h, name));
  return celMap(out);
}

/** Names (providers, keys, upstream models) → their fields; a Map when one is named `constructor` (see ./cel-values.ts). */
type CelMap = ReturnType<typeof celMap<Record<string, unknown>>>;

const fields = (names: readonly string[]): Record<string, unknown> => Object.fromEntries(names.map((n) => [n, undefined]));
const FIGURES = ['error_rate', 'requests', 'p50_ms', 'p95_ms', 'ttfb_p50_ms', 'ttfb_p95_ms', 'in_flight', 'headroom'] as const;
/** The templates the proxies stand over: never written (a proxy's own keys are its template's). */
const PROVIDER_FIELDS = fields(['state', ...FIGURES, 'available_keys', 'keys', 'models']);
const KEY_FIELDS = fields(['state', 'breaker', ...FIGURES, 'models']);
/** Counts CEL reads as int. */
const INTS = new Set(['requests', 'in_flight', 'available_keys']);

/** A figure of a view as CEL reads it, or undefined for a name that is no field of `template`. */
function figure(template: Record<string, unknown>, view: object, name: string | symbol): unknown {
  if (typeof name !== 'string' || !Object.hasOwn(template, name)) return Reflect.get(template, name);
  const v = (view as Record<string, unknown>)[name];
  return INTS.has(name) ? int(v as number) : v;
}

class ProviderForCel implements ProxyHandler<Record<string, unknown>> {
  private view: ProviderHealthView | undefined;
  private keys: CelMap | undefined;
  private models: CelMap | undefined;

  constructor(private readonly snapshot: HealthSnapshot, private readonly name: string) {}

  get(template: Record<string, unknown>, field: string | symbol): unknown {
    const p = (this.view ??= this.snapshot[this.name]!);
    if (field === 'keys') {
      if (this.keys === undefined) {
        const keys: Record<string, Record<string, unknown>> = {};
        for (const k of p.keys) keys[k.id] = new Proxy(KEY_FIELDS, new KeyForCel(k));
        this.keys = celMap(keys);
      }
      return this.keys;
    }
    if (field === 'models') return (this.models ??= modelsForCel(p.models));
    return figure(template, p, field);
  }
}

class KeyForCel implements ProxyHandler<Record<string, unknown>> {
  private lanes: CelMap | undefined;

  constructor(private readonly key: ProviderHealthView['keys'][number]) {}

  get(template: Record<string, unknown>, field: string | symbol): unknown {
    if (field === 'models') return (this.lanes ??= lanesForCel(this.key.models));
    return figure(template, this.key, field);
  }
}

function lanesForCel(models: ProviderHealthView['keys'][number]['models']): CelMap {
  const lanes: Record<string, Record<string, unknown>> = {};
  for (const m in models) {
    const l = models[m]!;
    lanes[m] = { state: l.state, breaker: l.breaker, available: l.available, ...figuresForCel(l) };
  }
  return celMap(lanes);
}

function modelsForCel(views: ProviderHealthView['models']): CelMap {
  const models: Record<string, Record<string, unknown>> = {};
  for (const m in views) {
    const v = views[m]!;
    models[m] = { state: v.state, available_keys: int(v.available_keys), error_rate: v.error_rate, requests: int(v.requests), headroom: v.headroom };
  }
  return celMap(models);
}
