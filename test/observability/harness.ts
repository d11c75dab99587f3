/**
 * An observed gateway for tests: the real gateway (src/gateway.ts) against simulators, with the admin key set, the response
 * cache on (exact layer only unless reference prompts are given) and the given rules; exposes its metrics, activity feed
 * and cache.
 */
import type { SemanticCache } from '../../src/cache/semantic-cache.js';
import type { Gateway } from '../../src/gateway.js';
import type { ActivityFeed } from '../../src/observability/activity.js';
import type { Metrics } from '../../src/observability/metrics.js';
import type { RuleInput } from '../../src/rules/config.js';
import { gateway } from '../helpers/gateway.js';

export const ADMIN_KEY = 'admin-test-key-0123456789';

export interface ObservedGateway {
  url: string;
  metrics: Metrics;
  activity: ActivityFeed;
  cache: SemanticCache;
  /** Resolves once the cache holds at least `n` entries (stores finish just after the reply). */
  stored(n: number): Promise<void>;
  close(): Promise<void>;
}

/** `referencePrompts`: a reference-prompt folder whose categories the dashboard lists (loads the embedder). */
export async function observedGateway(raw: Record<string, unknown>, rules: RuleInput[] = [], referencePrompts?: string): Promise<ObservedGateway> {
  const gw: Gateway = await gateway({
    ...raw,
    server: { admin_key: ADMIN_KEY, ...(raw.server as object | undefined) },
    rules,
    cache: { enabled: true, semantic: referencePrompts !== undefined },
    ...(referencePrompts ? { semantic: { reference_prompts: { dir: referencePrompts, watch: false, cache_dir: '' } } } : {}),
  });
  const cache = gw.services.cache!;
  return {
    url: gw.url,
    metrics: gw.observability.metrics,
    activity: gw.observability.activity,
    cache,
    async stored(n: number): Promise<void> {
      for (let i = 0; cache.entries < n; i++) {
        if (i > 1000) throw new Error(`the cache holds ${cache.entries} entries, expected ${n}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    close: () => gw.close(),
  };
}

/** Value of one sample line of the exposition text (labels given as a subset, in any order); undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const kv of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[kv[1]] = kv[2];
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) total = (total ?? 0) + Number(m[3]);
  }
  return total;
}
