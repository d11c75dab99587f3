/**
 * The runtime: every live object derived from one config — provider adapters and key pools, the model table, execution
 * settings. Built whole from a validated config and swapped atomically; a request keeps the runtime it started with.
 */
import type { Config } from './config/schema.js';
import { createAdapter } from './providers/adapters.js';
import { createRedactor, type Redact } from './providers/redact.js';
import type { ExecuteSettings, ProviderRuntime } from './providers/execute.js';
import type { Target } from './pipeline/context.js';
import { parseTarget, type ModelTable, type WeightedTarget } from './pipeline/resolve-target.js';

export interface Runtime {
  readonly config: Config;
  readonly providers: ReadonlyMap<string, ProviderRuntime>;
  readonly table: ModelTable;
  readonly execute: ExecuteSettings;
  /** Sanitises upstream text: this config's secrets and credential shapes redacted, length capped. */
  readonly redact: Redact;
}

/** Every secret value the config holds: provider keys, the admin key, virtual keys given in plain text, trace-export headers. */
export function configSecrets(config: Config): string[] {
  const out: string[] = [];
  for (const p of Object.values(config.providers)) for (const k of p.keys) out.push(k.value);
  if (config.server.admin_key !== undefined) out.push(config.server.admin_key);
  for (const k of config.governance.keys) if (k.key !== undefined) out.push(k.key);
  // A trace collector's credentials (observability.otel.headers) are secrets too.
  out.push(...Object.values(config.observability.otel.headers));
  return out;
}

const toTarget = (s: string): Target => parseTarget(s)!;

/** Pure: builds everything from the config without touching shared state, so a failure changes nothing. */
export function buildRuntime(config: Config): Runtime {
  const nonRetryable = new Set(config.routing.non_retryable_statuses);
  const redact = createRedactor(configSecrets(config));
  const providers = new Map<string, ProviderRuntime>();
  for (const [name, p] of Object.entries(config.providers)) {
    const adapter = createAdapter({ name, ...p }, { nonRetryable, redact });
    providers.set(name, { name, adapter, keys: p.keys.map((k) => ({ ...k })), timeoutMs: p.timeout_ms, firstByteTimeoutMs: Math.min(p.first_byte_timeout_ms, p.timeout_ms), forwardHeaders: p.forward_headers });
  }

  const bareModels = new Map<string, Target[]>();
  for (const [name, p] of Object.entries(config.providers)) {
    for (const m of p.models) {
      const list = bareModels.get(m) ?? [];
      list.push({ provider: name, model: m });
      bareModels.set(m, list);
    }
  }
  const aliases = new Map<string, { targets: WeightedTarget[]; fallbacks: Target[] }>();
  for (const [name, a] of Object.entries(config.aliases)) {
    aliases.set(name, { targets: a.targets.map((t) => ({ target: toTarget(t.target), weight: t.weight })), fallbacks: a.fallbacks.map(toTarget) });
  }
  const fallbacks = new Map<string, Target[]>();
  for (const [from, chain] of Object.entries(config.routing.fallbacks)) fallbacks.set(from, chain.map(toTarget));

  return {
    config,
    providers,
    table: { providers: new Map([...providers].map(([n, p]) => [n, { supports: p.adapter.supports }])), aliases, bareModels, fallbacks },
    execute: {
      maxAttempts: config.routing.max_attempts,
      maxKeysPerTarget: config.routing.max_keys_per_target,
      deadlineMs: config.routing.deadline_ms,
      floorShare: config.balancing.floor_share,
    },
    redact,
  };
}

/** Model ids for GET /v1/models: aliases, provider/model for every listed model, and bare names. */
export function listModels(rt: Runtime): Array<{ id: string; object: 'model'; created: number; owned_by: string }> {
  const out: Array<{ id: string; object: 'model'; created: number; owned_by: string }> = [];
  const seen = new Set<string>();
  const add = (id: string, owner: string): void => {
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ id, object: 'model', created: 0, owned_by: owner });
  };
  for (const name of rt.table.aliases.keys()) add(name, 'switchyard');
  for (const [name, p] of Object.entries(rt.config.providers)) for (const m of p.models) add(`${name}/${m}`, name);
  for (const [m, targets] of rt.table.bareModels) add(m, targets[0].provider);
  return out;
}
