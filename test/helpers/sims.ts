/**
 * Upstream simulators on loopback, without the in-process gateway: a test that runs the gateway in a process of its own
 * (./gateway-process.ts) imports this, not ./gateway.ts, and so does not load the gateway's sources itself.
 */
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/types.js';

export async function sims(...opts: SimulatorOptions[]): Promise<Simulator[]> {
  return Promise.all(opts.map((o) => startSimulator(o)));
}
