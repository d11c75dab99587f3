/**
 * An observed gateway for tests: the real HTTP app (src/server/app.ts), the real pipeline with the timing, route (with real
 * compiled CEL rules), and exact-match cache stages, the real provider executor against simulators, and the metrics,
 * activity feed and dashboard routers mounted behind the admin key — wired the way the composition root wires them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { GatewayError } from '../../src/errors.js';
import { SemanticCache } from '../../src/cache/semantic-cache.js';
import { createCacheStage } from '../../src/cache/stage.js';
import { dashboardRouter, type DashboardSources } from '../../src/dashboard/router.js';
import type { ActivityFeed } from '../../src/observability/activity.js';
import { metricsRouter, type Metrics } from '../../src/observability/metrics.js';
import { createObservability } from '../../src/observability/observability.js';
import { ANONYMOUS } from '../../src/pipeline/context.js';
import { createRouteStage, type RuleDecider } from '../../src/pipeline/route-stage.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { executeChain } from '../../src/providers/execute.js';
import { HealthRegistry } from '../../src/providers/health-registry.js';
import { loadCatalog } from '../../src/semantic/catalog/load.js';
import { compile } from '../../src/rules/compile.js';
import { ruleSchema, type RuleInput } from '../../src/rules/config.js';
import { explain, toRouteDecision } from '../../src/rules/engine.js';
import { routeRequest } from '../../src/rules/route.js';
import { buildRuntime, listModels } from '../../src/runtime.js';
import { createApp } from '../../src/server/app.js';
import { config } from '../helpers/gateway.js';

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

/** `referencePrompts`: a reference-prompt folder whose categories the dashboard lists. */
export async function observedGateway(raw: Record<string, unknown>, rules: RuleInput[] = [], referencePrompts?: string): Promise<ObservedGateway> {
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const cfg = config({ ...raw, server: { admin_key: ADMIN_KEY, ...(raw.server as object | undefined) } });
  const registry = new HealthRegistry(cfg.balancing, cfg.circuit);
  const rt = buildRuntime(cfg);
  registry.sync(rt.keyLayout, cfg.balancing, cfg.circuit);
  const obs = createObservability(undefined, () => registry.snapshot());
  const { metrics, activity } = obs;

  const compiled = compile(rules.map((r) => ruleSchema.parse(r)), { knownProviders: new Set(rt.providers.keys()) });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  const ruleSet = compiled.ruleSet;
  const providers = new Set(rt.providers.keys());
  const decide: RuleDecider = async (ctx) => {
    const routed = await routeRequest(ruleSet, ctx, { providers, health: () => registry.snapshot() }, { onError: (r) => metrics.ruleError(r.name) });
    if (routed.decision.matched) ctx.facts.rules = explain(ruleSet, routed.variables, ctx.caller).steps;
    return toRouteDecision(routed.decision);
  };

  // Exact-match cache only: a semantic lookup would need an embedding model, which this harness does not load.
  const cache = await SemanticCache.create({ dim: 8, logger, config: { enabled: true, semantic: false } });
  cache.onEvent(metrics.cacheStatsEvent);
  const cacheStage = createCacheStage({
    cache,
    logger,
    embed: () => Promise.reject(new Error('the exact-match cache embeds nothing')),
  });
  const stages = [obs.timingStage, createRouteStage(rt.table, decide), cacheStage];

  const sources: DashboardSources = {
    activity: () => activity.overview(),
    health: () => registry.snapshot(),
    categories: async () => (referencePrompts ? (await loadCatalog(referencePrompts)).categories : []),
    cache: () => ({ ...cache.stats.snapshot(), entries: cache.entries }),
    rules: () => rules.map((r) => {
      const spec = ruleSchema.parse(r);
      return { name: spec.name, scope: spec.scope, priority: spec.priority, enabled: spec.enabled, targets: spec.targets };
    }),
  };

  const app = createApp({
    bodyLimit: () => cfg.server.body_limit,
    adminKey: () => cfg.server.admin_key,
    authenticate: async () => ANONYMOUS,
    handle: (ctx) =>
      runPipeline(ctx, stages, (c) => executeChain(c, rt.providers, registry, rt.execute)).catch((err: unknown) => {
        if (!(err instanceof GatewayError)) logger.error({ err }, 'pipeline failed');
        throw err;
      }),
    models: () => listModels(rt),
    ready: () => ({ ready: true, checks: {} }),
    finished: (o) => obs.finished(o),
    adminRoutes: [metricsRouter(metrics), dashboardRouter(sources)],
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    metrics,
    activity,
    cache,
    async stored(n: number): Promise<void> {
      for (let i = 0; cache.entries < n; i++) {
        if (i > 1000) throw new Error(`the cache holds ${cache.entries} entries, expected ${n}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
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
