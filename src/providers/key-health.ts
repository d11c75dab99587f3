/**
 * The health of one upstream key: its lanes — one per upstream model the config names (src/providers/lane-health.ts) — and
 * its credential circuit. Upstreams fail and rate-limit per model, so the circuit, the rest after a rate limit and the
 * headroom are each lane's; only a refusal of the key itself (failure action `disable`) opens the credential circuit,
 * which takes every lane out of service until a probe after the cooldown passes.
 *
 * Lanes are bounded by the config: a model that neither a provider's config nor a route target names (a name the caller
 * chose on a pass-through provider) runs in the key's one shared lane, so callers cannot make state per name. The shared
 * lane is what a whole key was before lanes: models nobody named still share fate, as they always did.
 */
import { Circuit, type CircuitSettings } from './circuit.js';
import { LaneHealth, type HealthSettings } from './lane-health.js';

/** The model name the shared lane is shown under. */
export const SHARED_LANE = '*';

export class KeyHealth {
  /** Opens when the upstream refuses the key (revoked, wrong, no permission); every lane obeys it. */
  readonly credential: Circuit;
  /** The lane of models no config names. */
  readonly shared: LaneHealth;
  private lanesByModel = new Map<string, LaneHealth>();
  /** Whether the shared lane is shown before it is used: the provider serves models it does not name. */
  private showShared = true;

  constructor(health: HealthSettings, circuit: CircuitSettings) {
    this.credential = new Circuit(circuit);
    this.shared = new LaneHealth(health, circuit, this.credential);
  }

  /**
   * Aligns the key's lanes with the models now named (`models`), keeping the stats of lanes that remain; `passThrough`:
   * the provider serves models it does not name (its shared lane is shown even before it is used).
   */
  align(models: Iterable<string>, passThrough: boolean, health: HealthSettings, circuit: CircuitSettings): void {
    this.credential.configure(circuit);
    this.shared.configure(health, circuit);
    this.showShared = passThrough;
    const next = new Map<string, LaneHealth>();
    for (const m of models) {
      if (m === SHARED_LANE || next.has(m)) continue;
      const lane = this.lanesByModel.get(m) ?? new LaneHealth(health, circuit, this.credential);
      lane.configure(health, circuit);
      next.set(m, lane);
    }
    this.lanesByModel = next;
  }

  /** The lane an attempt for `model` runs in: the model's own when named, else the shared lane. One Map get. */
  lane(model: string): LaneHealth {
    return this.lanesByModel.get(model) ?? this.shared;
  }

  /** The lanes shown and summed in views, by model: every named lane, and the shared lane when it serves or served. */
  *lanes(): IterableIterator<[string, LaneHealth]> {
    yield* this.lanesByModel;
    if (this.showShared || this.shared.used || this.lanesByModel.size === 0) yield [SHARED_LANE, this.shared];
  }
}
