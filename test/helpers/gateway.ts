/**
 * Test harness: real upstream simulators on loopback, a real gateway on an ephemeral port, and the official openai client.
 */
import OpenAI from 'openai';
import { startGateway, type Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { config, quietLogger, TEST_SEMANTIC_BUDGET_MS } from './config.js';
import { sims } from './sims.js';

export { config, quietLogger, sims, TEST_SEMANTIC_BUDGET_MS };

export async function gateway(raw: Record<string, unknown>, configPath?: string): Promise<Gateway> {
  return startGateway({ config: config(raw), configPath, logger: quietLogger, host: '127.0.0.1', port: 0 });
}

export function client(gw: Gateway, apiKey = 'sk-test', extra: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 20_000, ...extra });
}

/** A `governance.keys` list of virtual keys named by letter (`{ a: secret }` → id `ka`, name `A`). */
export function virtualKeys(keys: Record<string, string>) {
  return Object.entries(keys).map(([letter, key]) => ({ id: `k${letter}`, name: letter.toUpperCase(), key }));
}

/** POSTs raw JSON (or text) to the gateway and returns status, headers and parsed body. */
export async function post(gw: Gateway, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, json, text };
}

/** A provider block for a simulator. */
export function provider(sim: Simulator, models: string[], keys: Array<{ id: string; weight?: number }> = [{ id: 'k1' }], extra: Record<string, unknown> = {}) {
  const kind = sim.protocol === 'azure' ? 'azure-openai' : sim.protocol;
  return { kind, base_url: sim.url, keys: keys.map((k) => ({ id: k.id, value: `key-${k.id}`, weight: k.weight ?? 1 })), models, ...extra };
}

/**
 * Two tenants on one gateway: a simulated OpenAI upstream `up` serving model `m`, the virtual keys `a` and `b` of
 * `keys`, an OpenAI client for each, and the rest of the config from `section` (the store whose fairness a test checks).
 */
export async function twoTenants(keys: { a: string; b: string }, section: Record<string, unknown>): Promise<{ sim: Simulator; gw: Gateway; a: OpenAI; b: OpenAI }> {
  const [sim] = await sims({ protocol: 'openai', name: 'up' });
  const gw = await gateway({ providers: { up: provider(sim, ['m']) }, governance: { keys: virtualKeys(keys) }, ...section });
  return { sim, gw, a: client(gw, keys.a), b: client(gw, keys.b) };
}

export async function closeAll(gw: Gateway | undefined, simulators: Simulator[]): Promise<void> {
  await gw?.close();
  await Promise.all(simulators.map((s) => s.close()));
}
