/**
 * Health registry: the KeyHealth of every (provider, key), kept across config reloads for keys that still exist, and a view
 * other stages read (rules expose it as the `health` variable; /ready and the dashboard show it). Views are computed when
 * asked from the counters every attempt updates, so a rule sees the attempt that ended just before it was evaluated.
 */
import type { CircuitSettings, CircuitState } from './circuit.js';
import { KeyHealth, type HealthSettings, type KeyState } from './key-health.js';

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

/** Leading signals of one key, read live (computed when asked, from the counters every attempt updates). */
export interface KeyHealthView extends HealthFigures {
  id: string;
  state: KeyState;
  /** The circuit breaker's own state. */
  breaker: CircuitState;
  ewma_ms: number;
  remaining_requests: number | null;
}

export interface ProviderHealthView extends HealthFigures {
  state: 'healthy' | 'degraded' | 'open' | 'half_open';
  available_keys: number;
  keys: KeyHealthView[];
}

const LATENCIES = ['p50_ms', 'p95_ms', 'ttfb_p50_ms', 'ttfb_p95_ms'] as const;

/** One key's view at `now`. */
export function keyView(id: string, h: KeyHealth, now: number, w = h.window(now)): KeyHealthView {
  return {
    id,
    state: h.state(now),
    breaker: h.circuit.state,
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

export class HealthRegistry {
  private readonly byProvider = new Map<string, Map<string, KeyHealth>>();
  private health: HealthSettings;
  private circuit: CircuitSettings;

  constructor(health: HealthSettings, circuit: CircuitSettings) {
    this.health = health;
    this.circuit = circuit;
  }

  /** Aligns the registry with a new provider/key layout, keeping the stats of keys that remain. */
  sync(layout: Record<string, string[]>, health: HealthSettings, circuit: CircuitSettings): void {
    this.health = health;
    this.circuit = circuit;
    for (const name of [...this.byProvider.keys()]) if (!(name in layout)) this.byProvider.delete(name);
    for (const [name, keyIds] of Object.entries(layout)) {
      const old = this.byProvider.get(name) ?? new Map<string, KeyHealth>();
      const next = new Map<string, KeyHealth>();
      for (const id of keyIds) {
        const h = old.get(id) ?? new KeyHealth(health, circuit);
        h.configure(health, circuit);
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
    let requests = 0;
    let errors = 0;
    let available = 0;
    let inFlight = 0;
    let headroom = 0;
    let anyDegraded = false;
    let anyHalfOpen = false;
    const worst = { p50_ms: 0, p95_ms: 0, ttfb_p50_ms: 0, ttfb_p95_ms: 0 };
    for (const [id, h] of keys) {
      const w = h.window(now);
      const v = keyView(id, h, now, w);
      requests += w.requests;
      errors += w.errors;
      inFlight += v.in_flight;
      if (v.state === 'healthy' || v.state === 'degraded') {
        available++;
        headroom = Math.max(headroom, v.headroom);
      }
      if (v.state !== 'healthy') anyDegraded = true;
      if (v.state === 'half_open') anyHalfOpen = true;
      for (const k of LATENCIES) worst[k] = Math.max(worst[k], v[k]);
      views.push(v);
    }
    const state = available === 0 ? (anyHalfOpen ? 'half_open' : 'open') : anyDegraded ? 'degraded' : 'healthy';
    return { state, error_rate: requests ? errors / requests : 0, requests, ...worst, in_flight: inFlight, headroom, available_keys: available, keys: views };
  }

  snapshot(now = Date.now()): Record<string, ProviderHealthView> {
    const out: Record<string, ProviderHealthView> = {};
    for (const name of this.byProvider.keys()) out[name] = this.provider(name, now)!;
    return out;
  }
}
