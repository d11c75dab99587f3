/**
 * Health registry: the KeyHealth of every (provider, key), kept across config reloads for keys that still exist, and a snapshot
 * view other stages read (rules expose it as the `health` variable; /ready and the dashboard show it).
 */
import type { CircuitSettings } from './circuit.js';
import { KeyHealth, type HealthSettings, type KeyState } from './key-health.js';

export interface KeyHealthView {
  id: string;
  state: KeyState;
  error_rate: number;
  ewma_ms: number;
  in_flight: number;
  remaining_requests: number | null;
}

export interface ProviderHealthView {
  state: 'healthy' | 'degraded' | 'open' | 'half_open';
  error_rate: number;
  p50_ms: number;
  p95_ms: number;
  available_keys: number;
  keys: KeyHealthView[];
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

  provider(name: string, now = Date.now()): ProviderHealthView | undefined {
    const keys = this.byProvider.get(name);
    if (!keys) return undefined;
    const views: KeyHealthView[] = [];
    let requests = 0;
    let errors = 0;
    let available = 0;
    let worstP50 = 0;
    let worstP95 = 0;
    let anyDegraded = false;
    let anyHalfOpen = false;
    for (const [id, h] of keys) {
      const w = h.window(now);
      requests += w.requests;
      errors += w.errors;
      const state = h.state(now);
      if (state === 'healthy' || state === 'degraded') available++;
      if (state !== 'healthy') anyDegraded = true;
      if (state === 'half_open') anyHalfOpen = true;
      worstP50 = Math.max(worstP50, h.percentile(0.5));
      worstP95 = Math.max(worstP95, h.percentile(0.95));
      views.push({ id, state, error_rate: w.requests ? w.errors / w.requests : 0, ewma_ms: h.ewmaMs, in_flight: h.inFlight, remaining_requests: h.remainingRequests ?? null });
    }
    const state = available === 0 ? (anyHalfOpen ? 'half_open' : 'open') : anyDegraded ? 'degraded' : 'healthy';
    return { state, error_rate: requests ? errors / requests : 0, p50_ms: worstP50, p95_ms: worstP95, available_keys: available, keys: views };
  }

  snapshot(now = Date.now()): Record<string, ProviderHealthView> {
    const out: Record<string, ProviderHealthView> = {};
    for (const name of this.byProvider.keys()) out[name] = this.provider(name, now)!;
    return out;
  }
}
