/**
 * Health registry: the KeyHealth of every (provider, key) — its lanes, one per upstream model the config names, and its
 * credential circuit — kept across config reloads for keys and lanes that still exist, and a view other stages read
 * (rules expose it as the `health` variable; /ready, metrics and the dashboard show it): per provider, per key (over its
 * lanes) and per model. Views are computed when asked from the counters every attempt updates, so a rule sees the attempt
 * that ended just before it was evaluated.
 */
import type { CircuitSettings, CircuitState } from './circuit.js';
import { KeyHealth } from './key-health.js';
import { modelMatches } from './key-selector.js';
import type { HealthSettings, HealthState, LaneHealth } from './lane-health.js';

/** The live figures a key and a provider both show (a provider's: over its keys, latencies of its worst key). */
export interface HealthFigures {
  /** Errors / attempts within the sliding window (`health.window_ms`); 0 with no attempts. */
  error_rate: number;
  /** Attempts ended within the window. */
  requests: number;
  /** Latency percentiles (time to first part for streams). */
  p50_ms: number;
  p95_ms: number;
  /** Time-to-first-byte percentiles (response headers for JSON, first part for streams). */
  ttfb_p50_ms: number;
  ttfb_p95_ms: number;
  /** Attempts in flight. */
  in_flight: number;
  /** remaining / limit of the upstream's request rate limit (0..1); 1 when it names none. A provider's: its best key's. */
  headroom: number;
}

/** One lane's signals: a key used for one upstream model (the shared lane, of models no config names, is `*`). */
export interface LaneHealthView extends HealthFigures {
  /** The lane's state (its circuit, its rest after a rate limit, its error rate), or the key's while the upstream refuses the key. */
  state: HealthState;
  /** The lane's circuit breaker. */
  breaker: CircuitState;
  /** An attempt for this model may use the key now: not resting, its circuit and the key's credential circuit pass. */
  available: boolean;
  ewma_ms: number;
  remaining_requests: number | null;
}

/**
 * Leading signals of one key, read live (computed when asked, from the counters every attempt updates): over its lanes,
 * and each lane by model. The key is open when the upstream refused it (its credential circuit) or every lane is open;
 * degraded while any lane is not healthy; its headroom is its best available lane's.
 */
export interface KeyHealthView extends HealthFigures {
  id: string;
  state: HealthState;
  /** The credential circuit's state when it is not closed, else closed while any lane's circuit is. */
  breaker: CircuitState;
  ewma_ms: number;
  remaining_requests: number | null;
  /** Upstream model → its lane. */
  models: Record<string, LaneHealthView>;
}

/** One upstream model over a provider's keys (its lane on each). */
export interface ModelHealthView {
  state: HealthState;
  /** Keys whose lane for the model is healthy or degraded. */
  available_keys: number;
  error_rate: number;
  requests: number;
  /** The best available key's headroom for the model. */
  headroom: number;
}

export interface ProviderHealthView extends HealthFigures {
  state: HealthState;
  available_keys: number;
  keys: KeyHealthView[];
  /** Upstream model → its state over the provider's keys. */
  models: Record<string, ModelHealthView>;
}

/**
 * How a provider's keys are laid out: key ids, the upstream models its config and routes name (one lane each on every key
 * that serves the model).
 */
export interface ProviderLayout {
  keys: readonly string[];
  models: ReadonlySet<string>;
  /** Key id → the model patterns the key serves (a key not listed serves every model). */
  serves?: ReadonlyMap<string, readonly string[]>;
  /** The provider serves models it does not name (their shared lane is shown before it is used). */
  passThrough: boolean;
}

const LATENCIES = ['p50_ms', 'p95_ms', 'ttfb_p50_ms', 'ttfb_p95_ms'] as const;

/** One lane's view at `now`. */
export function laneView(h: LaneHealth, now: number, w = h.window(now)): LaneHealthView {
  return {
    state: h.state(now),
    breaker: h.circuit.state,
    available: h.available(now),
    error_rate: w.requests ? w.errors / w.requests : 0,
    requests: w.requests,
    ewma_ms: h.ewmaMs,
    p50_ms: h.percentile(0.5),
    p95_ms: h.percentile(0.95),
    ttfb_p50_ms: h.ttfbPercentile(0.5),
    ttfb_p95_ms: h.ttfbPercentile(0.95),
    in_flight: h.inFlight,
    remaining_requests: h.remainingRequests ?? null,
    headroom: h.headroom(),
  };
}

/** States over several lanes or keys: open when all are, half-open when none is usable but some probe, degraded when any is not healthy. */
function overall(states: readonly HealthState[]): HealthState {
  let usable = false;
  let halfOpen = false;
  let unhealthy = false;
  for (const s of states) {
    if (s === 'healthy' || s === 'degraded') usable = true;
    if (s === 'half_open') halfOpen = true;
    if (s !== 'healthy') unhealthy = true;
  }
  return !usable && states.length > 0 ? (halfOpen ? 'half_open' : 'open') : unhealthy ? 'degraded' : 'healthy';
}

/** Each model over the keys' views of their lanes. */
function modelViews(keys: readonly KeyHealthView[]): Record<string, ModelHealthView> {
  const byModel = new Map<string, { states: HealthState[]; requests: number; errors: number; available: number; headroom: number }>();
  for (const k of keys) {
    for (const model in k.models) {
      const l = k.models[model]!;
      let m = byModel.get(model);
      if (m === undefined) byModel.set(model, m = { states: [], requests: 0, errors: 0, available: 0, headroom: 0 });
      m.states.push(l.state);
      m.requests += l.requests;
      m.errors += Math.round(l.error_rate * l.requests);
      if (l.state === 'healthy' || l.state === 'degraded') {
        m.available++;
        m.headroom = Math.max(m.headroom, l.headroom);
      }
    }
  }
  const out: Record<string, ModelHealthView> = {};
  for (const [model, m] of byModel) {
    out[model] = { state: overall(m.states), available_keys: m.available, error_rate: m.requests ? m.errors / m.requests : 0, requests: m.requests, headroom: m.headroom };
  }
  return out;
}

/** One key's view at `now`, over its lanes. */
export function keyView(id: string, key: KeyHealth, now: number): KeyHealthView {
  const models: Record<string, LaneHealthView> = {};
  const states: HealthState[] = [];
  let requests = 0;
  let errors = 0;
  let inFlight = 0;
  let ewma = 0;
  let anyClosed = false;
  let anyHalfOpen = false;
  let best: LaneHealthView | undefined;
  const worst = { p50_ms: 0, p95_ms: 0, ttfb_p50_ms: 0, ttfb_p95_ms: 0 };
  for (const [model, lane] of key.lanes()) {
    const w = lane.window(now);
    const v = laneView(lane, now, w);
    models[model] = v;
    states.push(v.state);
    requests += w.requests;
    errors += w.errors;
    inFlight += v.in_flight;
    ewma = Math.max(ewma, v.ewma_ms);
    if (v.breaker === 'closed') anyClosed = true;
    if (v.breaker === 'half_open') anyHalfOpen = true;
    // The best lane: the highest headroom among available lanes, else among all.
    if (best === undefined || (v.available && !best.available) || (v.available === best.available && v.headroom > best.headroom)) best = v;
    for (const k of LATENCIES) worst[k] = Math.max(worst[k], v[k]);
  }
  const credential = key.credential;
  let state = overall(states);
  let breaker: CircuitState = anyClosed ? 'closed' : anyHalfOpen ? 'half_open' : 'open';
  if (credential.state !== 'closed') {
    // The upstream refused the key: every model on it is as the credential circuit is.
    state = credential.canPass(now) || credential.state === 'half_open' ? 'half_open' : 'open';
    breaker = credential.state;
    for (const model in models) models[model]!.state = state;
  }
  return {
    id, state, breaker,
    error_rate: requests ? errors / requests : 0, requests, ewma_ms: ewma, ...worst, in_flight: inFlight,
    remaining_requests: best?.remaining_requests ?? null, headroom: best?.headroom ?? 1,
    models,
  };
}

export class HealthRegistry {
  private readonly byProvider = new Map<string, Map<string, KeyHealth>>();
  private health: HealthSettings;
  private circuit: CircuitSettings;

  constructor(health: HealthSettings, circuit: CircuitSettings) {
    this.health = health;
    this.circuit = circuit;
  }

  /**
   * Aligns the registry with a new provider/key layout and the models each names, keeping the stats of the keys and lanes
   * that remain.
   */
  sync(layout: Readonly<Record<string, ProviderLayout>>, health: HealthSettings, circuit: CircuitSettings): void {
    this.health = health;
    this.circuit = circuit;
    for (const name of [...this.byProvider.keys()]) if (!(name in layout)) this.byProvider.delete(name);
    for (const [name, p] of Object.entries(layout)) {
      const old = this.byProvider.get(name) ?? new Map<string, KeyHealth>();
      const next = new Map<string, KeyHealth>();
      const models = [...p.models];
      for (const id of p.keys) {
        const h = old.get(id) ?? new KeyHealth(health, circuit);
        // A key has a lane for each named model it serves only: a lane it can never use would count as a key available
        // for the model in the views (and lend the model its untouched headroom).
        const serves = p.serves?.get(id);
        if (serves === undefined) h.align(models, p.passThrough, health, circuit);
        else h.align(models.filter((m) => modelMatches(serves, m)), p.passThrough && serves.some((m) => m.endsWith('*')), health, circuit);
        next.set(id, h);
      }
      this.byProvider.set(name, next);
    }
  }

  key(provider: string, keyId: string): KeyHealth {
    const h = this.byProvider.get(provider)?.get(keyId);
    if (!h) throw new Error(`no health record for ${provider}/${keyId}`);
    return h;
  }

  keys(provider: string): ReadonlyMap<string, KeyHealth> | undefined {
    return this.byProvider.get(provider);
  }

  /** The provider's view at `now`, computed from its keys' live counters (nothing cached). */
  provider(name: string, now = Date.now()): ProviderHealthView | undefined {
    const keys = this.byProvider.get(name);
    if (!keys) return undefined;
    const views: KeyHealthView[] = [];
    const states: HealthState[] = [];
    let requests = 0;
    let errors = 0;
    let available = 0;
    let inFlight = 0;
    let headroom = 0;
    const worst = { p50_ms: 0, p95_ms: 0, ttfb_p50_ms: 0, ttfb_p95_ms: 0 };
    for (const [id, h] of keys) {
      const v = keyView(id, h, now);
      requests += v.requests;
      errors += Math.round(v.error_rate * v.requests);
      inFlight += v.in_flight;
      states.push(v.state);
      if (v.state === 'healthy' || v.state === 'degraded') {
        available++;
        headroom = Math.max(headroom, v.headroom);
      }
      for (const k of LATENCIES) worst[k] = Math.max(worst[k], v[k]);
      views.push(v);
    }
    return {
      state: overall(states), error_rate: requests ? errors / requests : 0, requests, ...worst, in_flight: inFlight, headroom,
      available_keys: available, keys: views, models: modelViews(views),
    };
  }

  /**
   * The snapshot as the routing rules read it: each provider's view is computed when a rule first reads it (at `now`) and
   * kept for the request, so a rule that reads one provider pays for that provider's keys and lanes only, not for every
   * lane of every provider.
   */
  lazySnapshot(now = Date.now()): Record<string, ProviderHealthView> {
    const names: Record<string, ProviderHealthView> = {};
    for (const name of this.byProvider.keys()) names[name] = undefined as unknown as ProviderHealthView;
    const views = new Map<string, ProviderHealthView>();
    return new Proxy(names, {
      get: (target, name) => {
        if (typeof name !== 'string' || !Object.hasOwn(target, name)) return Reflect.get(target, name);
        let v = views.get(name);
        if (v === undefined) views.set(name, (v = this.provider(name, now)!));
        return v;
      },
    });
  }

  snapshot(now = Date.now()): Record<string, ProviderHealthView> {
    const out: Record<string, ProviderHealthView> = {};
    for (const name of this.byProvider.keys()) out[name] = this.provider(name, now)!;
    return out;
  }
}
