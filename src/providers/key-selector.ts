/**
 * Key selection, outside the adapters: filter a provider's keys (serves the model, not tried yet in this request, its lane
 * for the model passable — the lane's circuit and the key's credential circuit — and not resting after a 429), then choose
 * by weight adjusted for the lanes' live health — slower, failing or busier keys get less traffic for the model, but every
 * eligible key keeps a floor share so it can prove recovery.
 */
import type { LaneHealth } from './lane-health.js';

export interface PoolKey {
  id: string;
  value: string;
  weight: number;
  /** Model patterns this key serves. */
  models: string[];
}

export function modelMatches(patterns: readonly string[], model: string): boolean {
  for (const p of patterns) {
    if (p === '*' || p === model) return true;
    if (p.endsWith('*') && model.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}

export interface Candidate {
  key: PoolKey;
  /** The key's lane for the model asked for. */
  health: LaneHealth;
}

/** Traffic share of each candidate before the random draw. Pure: exported for tests and the explain view. */
export function shares(cands: readonly Candidate[], now: number, floorShare: number): number[] {
  let bestLatency = Infinity;
  for (const c of cands) if (c.health.ewmaMs > 0 && c.health.ewmaMs < bestLatency) bestLatency = c.health.ewmaMs;
  const raw = cands.map(({ key, health }) => {
    const latencyFactor = health.ewmaMs > 0 && Number.isFinite(bestLatency) ? bestLatency / health.ewmaMs : 1;
    const err = health.errorRate(now);
    const errorFactor = (1 - err) * (1 - err);
    const busyFactor = 1 / (1 + health.inFlight * 0.1);
    const headroom = health.remainingRequests !== undefined && health.remainingRequests <= 1 ? 0.1 : 1;
    return key.weight * latencyFactor * errorFactor * busyFactor * headroom;
  });
  const weightSum = cands.reduce((s, c) => s + c.key.weight, 0);
  const sum = raw.reduce((s, v) => s + v, 0);
  const out = raw.map((v, i) => Math.max(sum > 0 ? v / sum : 0, (floorShare * cands[i].key.weight) / weightSum));
  const total = out.reduce((s, v) => s + v, 0);
  return out.map((v) => v / total);
}

/**
 * Picks one key for `model` among `keys`, skipping `exclude`d ids; `laneOf` gives a key's lane for the model. Returns
 * undefined when no key is eligible.
 */
export function selectKey(
  keys: readonly PoolKey[],
  laneOf: (id: string) => LaneHealth,
  model: string,
  exclude: ReadonlySet<string>,
  now: number,
  floorShare: number,
  random: () => number = Math.random,
): Candidate | undefined {
  const cands: Candidate[] = [];
  for (const key of keys) {
    if (exclude.has(key.id) || !modelMatches(key.models, model)) continue;
    const health = laneOf(key.id);
    if (health.available(now)) cands.push({ key, health });
  }
  if (cands.length <= 1) return cands[0];
  const s = shares(cands, now, floorShare);
  let r = random();
  for (let i = 0; i < cands.length; i++) {
    r -= s[i];
    if (r <= 0) return cands[i];
  }
  return cands[cands.length - 1];
}
