/**
 * The composition root: builds the long-lived services (health registry, logger, feature services) and the per-config runtime,
 * wires them into the HTTP surface, swaps the runtime atomically on reload, and shuts down gracefully.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { GatewayError, internalError } from './errors.js';
import type { AddressInfo } from 'node:net';
import { PACKAGE_ROOT } from './config/paths.js';
import { watchConfig, type ConfigWatcher } from './config/watch.js';
import type { Config } from './config/schema.js';
import type { Caller, RequestContext } from './pipeline/context.js';
import type { ProviderReply } from './providers/types.js';
import { createRouteStage } from './pipeline/route-stage.js';
import { runPipeline } from './pipeline/run.js';
import type { Stage } from './pipeline/stage.js';
import { executeChain } from './providers/execute.js';
import { runCascade, type CascadeDeps } from './cascade/index.js';
import type { HealthRegistry } from './providers/health-registry.js';
import { laneLayout, ruleTargets } from './providers/lane-layout.js';
import { rulesAdminRouter } from './rules/index.js';
import { createRuleDecider, explainRoute, type RuleDeciderDeps } from './pipeline/rules-decider.js';
import { gatewayAdminRouter } from './server/admin-routes.js';
import { createServices, type Services } from './services.js';
import { pendingRestart } from './config/restart-keys.js';
import { createAccessStage, createGovernanceStage, governanceAdminRouter } from './governance/index.js';
import { NO_PARALLEL_LIMITS } from './governance/registry.js';
import { createObservability, createTracing, metricsRouter, type Observability } from './observability/index.js';
import { dashboardRouter } from './dashboard/router.js';
import { A, baselineTarget, createLedgerStage, spendOverview, usageRouter } from './ledger/index.js';
import { cacheAdminRouter, cacheStatsRouter, createCacheStage } from './cache/index.js';
import { createSafety } from './safety/index.js';
import { createSessionStage, MemorySessionStore, RedisSessionStore, Sessions } from './sessions/index.js';
import { createQuerySemantics } from './pipeline/query-semantics.js';
import { textToEmbed } from './semantic/text.js';
import { cacheDisabledRouter } from './server/cache-disabled-route.js';
import { classifyRouter } from './server/classify-route.js';
import { createLogger, createRequestLog, requestLogOf, type Logger } from './observability/logger.js';
import { isNamed, namedModels, type ModelNames } from './observability/model-names.js';
import { buildRuntime, listModels, type Runtime } from './runtime.js';
import { createApp, type GatewayHandle, type RequestOutcome } from './server/app.js';
import { rawBodyOf } from './server/express-body.js';
import { withFastPath } from './server/fast-path.js';
import { InFlight } from './server/in-flight.js';
import { writeError } from './server/write-reply.js';
import { messagesEdge, messagesRouter } from './edges/anthropic-messages/messages-edge.js';
import { answerClientError, answerUnknownExpectation } from './server/client-error.js';
import { createResponsesEdge } from './edges/openai-responses/responses-edge.js';
import { MemoryResponseStore, RedisResponseStore, type ResponseStore } from './edges/openai-responses/response-store.js';

export interface GatewayOptions {
  config: Config;
  /** When given, the file is watched and reloaded on change. */
  configPath?: string;
  logger?: Logger;
  /**
   * Folder that relative paths left in the config resolve against (default: the package, where the bundled reference
   * prompts and models/ are). A config file's own relative paths were made absolute against its folder at load.
   */
  rootDir?: string;
  /** Overrides config.server.host/port (port 0 = ephemeral). */
  host?: string;
  port?: number;
  /** Called when a cascade escalates: the rule, the tier that failed (0-based) and why (for metrics). */
  onCascadeEscalation?: CascadeDeps['onEscalation'];
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly logger: Logger;
  readonly registry: HealthRegistry;
  readonly services: Services;
  readonly observability: Observability;
  runtime(): Runtime;
  /** Applies a new config whole or throws with `errors` and keeps the old one. */
  apply(config: Config): Promise<void>;
  /** Re-reads the config file (no-op without one). */
  reload(): Promise<string[]>;
  /** The last resort: logs and counts an error nothing else handled; the process keeps serving. Never throws. */
  unexpected(err: unknown, where: string): void;
  close(): Promise<void>;
}

interface Live {
  rt: Runtime;
  deciderDeps: RuleDeciderDeps;
  stages: Stage[];
  terminal: (ctx: RequestContext) => Promise<ProviderReply>;
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const logger = opts.logger ?? createLogger(opts.config.logging.level);
  const requestLog = opts.logger ? requestLogOf(opts.logger) : createRequestLog(opts.config.logging.level);
  // The OpenTelemetry SDK is imported here only when observability.otel is enabled.
  const obs = createObservability(opts.config.observability, undefined, await createTracing(opts.config.observability.otel, logger));
  const rootDir = opts.rootDir ?? PACKAGE_ROOT;
  const services = await createServices(opts.config, logger, rootDir, {
    onRuleError: (rule) => obs.metrics.ruleError(rule),
    onEmbedBatch: (ms, n) => obs.metrics.embedding(ms, n),
  });
  obs.metrics.setHealthSource(() => services.registry.snapshot());
  if (services.cache) services.cache.onEvent(obs.metrics.cacheStatsEvent);
  const { registry, rules, semantic, cache, governance } = services;
  const query = semantic
    ? createQuerySemantics(semantic, () => ({ embedText: live.rt.config.semantic.embed_text, maxWaitMs: live.rt.config.semantic.max_wait_ms }))
    : undefined;
  const cacheStage = cache && query
    ? createCacheStage({ cache, embed: query.embed, budget: query.budget, intent: async (ctx) => (await query.classify(ctx))?.intent, logger })
    : cache ? createCacheStage({ cache, embed: () => Promise.reject(new Error('semantic features are disabled')), logger }) : undefined;
  const safety = await createSafety({
    config: () => live.rt.config.safety,
    examplesFile: opts.config.safety.jailbreak.examples ?? path.join(opts.config.semantic.reference_prompts.dir, 'jailbreak.yaml'),
    benignExamples: opts.config.safety.jailbreak.benign_examples !== undefined
      ? { file: opts.config.safety.jailbreak.benign_examples, optional: false }
      : { file: path.join(opts.config.semantic.reference_prompts.dir, 'jailbreak_benign.yaml'), optional: true },
    rootDir,
    logger,
    embedTexts: semantic ? (texts) => Promise.all(texts.map((t) => semantic.embed(t))) : undefined, // start-up: not bounded
    embed: query?.embed,
    rules: () => rules.current().byName,
    cacheStores: cacheStage !== undefined,
  });

  // Health is read by rules only when referenced, and then live: computed from the keys' counters at evaluation time, each
  // provider's view when a rule first reads it.
  const health = (): ReturnType<HealthRegistry['snapshot']> => registry.lazySnapshot();

  // Sticky conversations: shared through Redis when the gateway has it, else kept in this process (bounded).
  const sessions = new Sessions(
    services.redis ? new RedisSessionStore(services.redis, opts.config.redis.key_prefix) : new MemorySessionStore(() => live.rt.config.sessions.max_entries),
    () => live.rt.config.sessions,
    logger,
  );
  const sessionStage = createSessionStage(sessions);
  const accessStage = createAccessStage({ governance });
  const governanceStage = createGovernanceStage({ governance });
  const ledger = governance.ledger;
  const ledgerStage = createLedgerStage({
    ledger,
    pricing: () => governance.pricing,
    baseline: (ctx) => baselineTarget(ctx.model, live.rt.table, governance.config.ledger, ctx.route?.chain[0]),
  });
  ledger.onEntry((e) => obs.metrics.spend({
    provider: e.dims[3], model: e.dims[4], rule: e.dims[5],
    costUsd: e.amounts[A.cost] / 1e9, savedRoutingUsd: e.amounts[A.saved_routing] / 1e9, savedCacheUsd: e.amounts[A.saved_cache] / 1e9,
  }));
  const cascadeDeps: Omit<CascadeDeps, 'execute'> = {
    logger,
    streaming: () => live.rt.config.cascade.streaming,
    onEscalation: (rule, fromTier, reason) => {
      obs.metrics.cascadeEscalation(rule, reason);
      opts.onCascadeEscalation?.(rule, fromTier, reason);
    },
  };
  const build = (config: Config): Live => {
    const rt = buildRuntime(config);
    const providerNames = new Set(rt.providers.keys());
    const deciderDeps: RuleDeciderDeps = {
      ruleSet: () => rules.current(),
      inputs: (ctx) => ({
        providers: providerNames,
        health,
        semantic: query ? () => query.classify(ctx) : undefined,
        cacheSimilarity: cacheStage ? () => cacheStage.similarity(ctx) : undefined,
        capacity: () => governance.capacity(ctx.caller),
        safety: safety.inputs(ctx),
        session: () => sessions.facts(ctx),
      }),
      onError: services.ruleErrors.report,
    };
    // Access (allow-lists) runs before the cache so a cached reply is never served for a model the caller may not use;
    // budgets and rate limits run after it, so hits cost nothing. The ledger sits just before the cache: it records hits too.
    const stages: Stage[] = [
      obs.timingStage, createRouteStage(rt.table, createRuleDecider(deciderDeps)), sessionStage, safety.stage, accessStage, ledgerStage,
    ];
    if (cacheStage) stages.push(cacheStage);
    stages.push(governanceStage);
    // The terminal step, built once per runtime: the provider chain, or the cascade runner for a cascade route.
    const execute = (c: RequestContext): Promise<ProviderReply> => executeChain(c, rt.providers, registry, rt.execute);
    const cascade: CascadeDeps = { ...cascadeDeps, execute };
    const terminal = (c: RequestContext): Promise<ProviderReply> => (c.route?.cascade ? runCascade(c, cascade) : execute(c));
    return { rt, deciderDeps, stages, terminal };
  };
  // The models the config and the routing rules name, by provider, recomputed when either changes: each has a health lane
  // on every key of its provider, and they are the only values the metrics' `model` label holds.
  let modelNames: ModelNames = new Map();
  const syncNamedModels = (config: Config): void => {
    const layout = laneLayout(config, ruleTargets(rules.current().rules));
    registry.sync(layout, config.balancing, config.circuit);
    modelNames = namedModels(layout);
  };
  const goLive = (next: Live): void => {
    syncNamedModels(next.rt.config);
    live = next;
  };
  let live: Live;
  try {
    live = build(opts.config);
  } catch (err) {
    await services.close();
    await obs.tracing.shutdown();
    throw err;
  }
  goLive(live);
  obs.metrics.setModelFilter((provider, model) => isNamed(modelNames, provider, model));
  const stopSyncingModels = rules.onChange(() => syncNamedModels(live.rt.config));

  // Aborted when the shutdown grace period ends (streams still running then end with an error event).
  const stopping = new AbortController();
  let lastUnexpectedLog = 0;
  let unexpectedSinceLog = 0;
  const handle: GatewayHandle = {
    stopping: stopping.signal,
    bodyLimit: () => live.rt.config.server.body_limit,
    limits: () => live.rt.config.server.limits,
    writeTimeoutMs: () => live.rt.config.server.write_timeout_ms,
    inFlight: new InFlight(() => live.rt.config.server.max_in_flight),
    parallelLimits: (caller) => governance.principal(caller)?.parallel ?? NO_PARALLEL_LIMITS,
    unexpected(err: unknown, where: string, res?: ServerResponse) {
      try {
        obs.metrics.unexpected(where);
        // Logged with its stack, at most a few lines a second so a storm cannot flood the log.
        unexpectedSinceLog++;
        const now = Date.now();
        if (now - lastUnexpectedLog >= 200) {
          lastUnexpectedLog = now;
          const e = err instanceof Error ? err : new Error(String(err));
          logger.error({ where, err: { message: live.rt.redact(e.message), stack: e.stack?.split('\n').slice(0, 12).join('\n') }, count: unexpectedSinceLog }, 'unexpected error caught; still serving');
          unexpectedSinceLog = 0;
        }
        if (res !== undefined && !res.writableEnded) writeError(res, internalError());
      } catch {
        // The last resort itself must never throw.
      }
    },
    adminKey: () => live.rt.config.server.admin_key,
    authenticate: (authorization: string | undefined): Promise<Caller> => governance.authenticate(authorization),
    handle(ctx: RequestContext) {
      const { stages, terminal } = live;
      if (obs.tracing.enabled) ctx.trace = obs.tracing.begin(ctx);
      return runPipeline(ctx, stages, terminal);
    },
    models: () => listModels(live.rt),
    ready() {
      const providers = registry.snapshot();
      const open = Object.entries(providers).filter(([, p]) => p.state === 'open').map(([n]) => n);
      const gov = governance.health();
      const ready = Object.keys(providers).length > 0 && open.length < Object.keys(providers).length && gov.ok;
      return {
        ready,
        checks: {
          config: 'loaded',
          providers: Object.keys(providers).length,
          providers_open: open,
          embedder: semantic ? (semantic.ready ? 'loaded' : 'loading') : 'disabled',
          redis: services.redisHealth()?.state ?? 'not_configured',
          ...(services.redis ? { redis_breaker: services.redisHealth()?.breaker } : {}),
          governance: gov,
        },
      };
    },
    finished(o: RequestOutcome) {
      const { ctx } = o;
      requestLog.write({
        request_id: ctx.id,
        route: ctx.requestType,
        protocol: ctx.protocol,
        model: ctx.model,
        status: o.status,
        duration_ms: Math.round(o.durationMs * 100) / 100,
        caller: ctx.caller.virtualKeyId || undefined,
        team: ctx.caller.teamId || undefined,
        customer: ctx.caller.customerId || undefined,
        rule: ctx.route?.rule,
        attempts: ctx.attempts,
        usage: ctx.usage,
        error: o.error ? { code: o.error.code, type: o.error.type } : undefined,
        // Prompts may hold personal data: logged only when logging.log_prompts is on (the text as sent upstream, redacted
        // when a safety policy redacted it), cut to 2,000 characters.
        prompt: live.rt.config.logging.log_prompts ? textToEmbed(ctx.upstreamBody ?? ctx.body, 'all').slice(0, 2000) : undefined,
        ...ctx.facts,
      });
      obs.finished(o);
    },
  };
  obs.metrics.setInFlightSource(() => handle.inFlight.count);

  // Started without a config file (embedded defaults, --demo): a reload has nothing to read, and says so.
  let reloadFile: () => Promise<string[]> = () => Promise.reject(new GatewayError({
    status: 409, type: 'invalid_request_error', code: 'no_config_file', failure: 'caller',
    message: 'This gateway was started without a config file (embedded defaults or --demo), so there is nothing to reload; start it with --config <file> to change its settings while it runs.',
  }));
  handle.adminRoutes = [
    gatewayAdminRouter({
      authenticate: (a) => handle.authenticate(a),
      explain: async (ctx) => {
        const route = await explainRoute(ctx, live.rt.table, live.deciderDeps);
        // The semantic budget's outcome for this request: ready, or degraded with why (null when nothing was embedded).
        return { ...route, safety: await safety.explain(ctx), semantic: ctx.facts.semantic ?? null };
      },
      reload: () => reloadFile(),
      limits: () => live.rt.config.server.limits,
    }),
    rulesAdminRouter(rules),
    governanceAdminRouter(governance),
    usageRouter(ledger),
    ...(cache ? [cacheAdminRouter(cache), cacheStatsRouter(cache)] : [cacheDisabledRouter()]),
    ...(obs.config.metrics.enabled ? [metricsRouter(obs.metrics)] : []),
    dashboardRouter({
      activity: () => obs.activity.overview(),
      health: () => registry.snapshot(),
      categories: () => semantic?.categories() ?? [],
      cache: () => cache && { ...cache.stats.snapshot(), entries: cache.entries },
      spend: () => spendOverview(ledger),
      rules: () => rules.list().map(({ rule }) => ({ name: rule.name, scope: rule.scope, priority: rule.priority, enabled: rule.enabled, targets: rule.targets })),
    }),
  ];
  // Stored responses (GET /v1/responses/{id}, previous_response_id): the store's kind is fixed at start, its limits reload.
  const responsesSettings = () => live.rt.config.responses;
  const responseStore: ResponseStore = opts.config.responses.store === 'redis' && services.redis
    ? new RedisResponseStore(services.redis, opts.config.redis.key_prefix, responsesSettings)
    : new MemoryResponseStore(responsesSettings);
  const responses = createResponsesEdge({ store: responseStore, logger, authenticate: (a) => handle.authenticate(a) });
  handle.edges = new Map([['/v1/responses', responses.edge], ['/v1/messages', messagesEdge]]);
  handle.edgeRoutes = [messagesRouter({ authenticate: (a) => handle.authenticate(a), limits: () => handle.limits(), readBody: (req, res) => rawBodyOf(handle, req, res) })];
  handle.publicRoutes = [
    classifyRouter({ authenticate: (a) => handle.authenticate(a), semantic: () => semantic, maxInputChars: () => live.rt.config.semantic.embedder.max_input_chars }),
    responses.router,
  ];
  const app = createApp(handle);
  const server = createServer({ keepAliveTimeout: 65_000 }, withFastPath(handle, app));
  // Every header is kept: node keeps only the first 1,000 by default and drops the rest unseen (a request whose Host came
  // later got node's bare 400, its Authorization a 401). Their size is still bounded (16 KB: a 431 in the envelope).
  server.maxHeadersCount = 0;
  server.on('clientError', answerClientError);
  server.on('checkExpectation', answerUnknownExpectation);
  const host = opts.host ?? opts.config.server.host;
  const port = opts.port ?? opts.config.server.port;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;

  // Build and check everything first (a failure changes nothing); then install the rules, the new runtime and the cache
  // settings in the same tick, so no request sees rules for providers the runtime does not have yet; governance follows.
  const apply = async (config: Config): Promise<void> => {
    const next = build(config);
    services.checkGovernance(config);
    const cacheSettings = services.prepareCache(config);
    services.applyRules(config);
    goLive(next);
    cacheSettings.apply();
    const waiting = [...pendingRestart(opts.config, config), ...cacheSettings.restartKeys];
    if (waiting.length > 0) logger.warn({ keys: waiting }, 'config: these settings take effect on restart');
    await services.applyGovernance(config);
  };
  const watcher: ConfigWatcher | undefined = opts.configPath ? watchConfig(opts.configPath, apply, logger) : undefined;
  if (watcher) reloadFile = () => watcher.reload();

  const close = async (): Promise<void> => {
    watcher?.close();
    stopSyncingModels();
    const grace = live.rt.config.server.shutdown_grace_s * 1000;
    await new Promise<void>((resolve) => {
      // Keep-alive connections that go idle while draining are closed at once rather than waiting for the client.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      // At the end of the grace period, streams still running end with an error event; a moment later every connection
      // still open is closed.
      const timer = setTimeout(() => {
        stopping.abort();
        setTimeout(() => server.closeAllConnections(), 250).unref();
      }, grace);
      timer.unref();
      server.close(() => {
        clearTimeout(timer);
        clearInterval(sweep);
        resolve();
      });
      server.closeIdleConnections();
    });
    await safety.close();
    await services.close();
    await obs.tracing.shutdown();
    requestLog.flush();
  };

  logger.info({ url, providers: Object.keys(opts.config.providers) }, 'switchyard listening');
  return {
    url,
    port: addr.port,
    server,
    logger,
    registry,
    services,
    observability: obs,
    runtime: () => live.rt,
    apply,
    reload: () => watcher?.reload() ?? Promise.resolve([]),
    unexpected: (err, where) => handle.unexpected(err, where),
    close,
  };
}
