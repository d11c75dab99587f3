/**
 * Governance: authentication of virtual keys, the customer/team/key registry, and the counters behind budgets and rate limits.
 * One instance per process; several processes share state through Redis (counters, entities, change notifications).
 */
import type { Logger } from 'pino';
import { ANONYMOUS, type Caller } from '../pipeline/context.js';
import { unauthorized } from '../errors.js';
import { MemoryCounterStore, type CounterStore } from '../store/counters.js';
import { MemoryDocumentStore, type DocumentStore } from '../store/documents.js';
import { RedisCounterStore } from '../store/redis-counters.js';
import { RedisDocumentStore } from '../store/redis-documents.js';
import type { Redis } from '../store/redis-script.js';
import { customerSchema, keySchema, teamSchema, type Customer, type GovernanceConfig, type Team, type VirtualKey } from './config.js';
import { Ledger } from '../ledger/ledger.js';
import { Enforcer, type Capacity } from './enforce.js';
import { EntityService, type EntityHost } from './entities.js';
import { CounterGate, type GateHealth } from './gate.js';
import { bearerToken, hashKey, KEY_PREFIX } from './keys.js';
import { nanosToUsd, Pricing } from './pricing.js';
import { buildRegistry, customerLevel, keyLevel, teamLevel, type Entities, type EntityKind, type Principal, type Registry } from './registry.js';

export interface GovernanceDeps {
  /** The parsed `governance` section (governanceConfigSchema). */
  config: GovernanceConfig;
  logger: Logger;
  /** An already-connected client; used when `store` is `auto` or `redis`. */
  redis?: Redis;
  /** Prefix of every Redis key and channel. Default `switchyard:gov:`. */
  prefix?: string;
  /** Clock, for tests. */
  now?: () => number;
}

export interface GovernanceHealth {
  ok: boolean;
  counters: GateHealth;
  entities: { store: 'memory' | 'redis'; loaded_at?: string; last_error?: string };
}

export interface UsageReport {
  kind: EntityKind;
  id: string;
  budget: { limit_usd: number; period: string; used_usd: number; remaining_usd: number; resets_at: string | null } | null;
  rate_limits: Array<{ metric: 'requests' | 'tokens'; per: 'minute' | 'hour'; limit: number; used: number; remaining: number }>;
  capacity: Capacity;
}

const COLLECTIONS: EntityKind[] = ['customers', 'teams', 'keys'];

function configEntities(cfg: GovernanceConfig): Entities {
  const customers = new Map(cfg.customers.map((c) => [c.id, { entity: c, source: 'config' as const }]));
  const teams = new Map(cfg.teams.map((t) => [t.id, { entity: t, source: 'config' as const }]));
  const keys = new Map<string, { entity: VirtualKey; source: 'config' }>();
  for (const k of cfg.keys) {
    const { key, key_hash, ...rest } = k;
    keys.set(k.id, { entity: { ...rest, key_hash: key_hash ?? hashKey(key!) }, source: 'config' });
  }
  return { customers, teams, keys };
}

export class Governance implements EntityHost {
  private pricingTable: Pricing;
  readonly admin: EntityService;
  private registry: Registry;
  private readonly enforcer: Enforcer;
  private readonly gate: CounterGate;
  private base: Entities;
  private readonly capacityCache = new Map<string, { until: number; value: Promise<Capacity> }>();
  private readonly now: () => number;
  private running: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private loadedAt: number | undefined;
  private loadError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Every request's spend and savings (src/ledger), shared through the same store as the counters. */
  readonly ledger: Ledger;

  private constructor(
    private cfg: GovernanceConfig,
    private readonly logger: Logger,
    counters: CounterStore,
    readonly docs: DocumentStore,
    prefix: string,
    now: () => number,
    redis: Redis | undefined,
  ) {
    this.now = now;
    this.ledger = new Ledger({ config: cfg.ledger, logger, redis, prefix, now });
    this.pricingTable = this.makePricing(cfg);
    this.gate = new CounterGate(counters, cfg.on_store_error, logger, now);
    this.enforcer = new Enforcer(this.gate, this.pricingTable, { prefix: `${prefix}ctr:`, budgetStatus: cfg.budget_exceeded_status, now });
    this.base = configEntities(cfg);
    this.registry = buildRegistry(this.base, cfg.anonymous);
    this.admin = new EntityService(this);
  }

  /** Opens the stores, loads stored entities and subscribes to changes. */
  static async create(deps: GovernanceDeps): Promise<Governance> {
    const { config, logger } = deps;
    const prefix = deps.prefix ?? 'switchyard:gov:';
    const now = deps.now ?? Date.now;
    const useRedis = config.store === 'redis' || (config.store === 'auto' && deps.redis !== undefined);
    if (useRedis && deps.redis === undefined) throw new Error('governance.store is "redis" but no Redis client is configured');
    const counters = useRedis ? new RedisCounterStore(deps.redis!) : new MemoryCounterStore(now);
    let lastSubLog = 0;
    const docs = useRedis
      ? await RedisDocumentStore.open(deps.redis!, prefix, {
        onSubscriptionError: (err) => {
          if (Date.now() - lastSubLog < 10_000) return;
          lastSubLog = Date.now();
          logger.warn({ err: err.message }, 'governance change subscription error (it reconnects by itself)');
        },
      })
      : new MemoryDocumentStore();
    const gov = new Governance(config, logger, counters, docs, prefix, now, useRedis ? deps.redis : undefined);
    docs.onChange(() => void gov.reload().catch(() => undefined));
    try {
      await gov.reload();
    } catch {
      // Logged by reload; config-declared entities keep working and the periodic refresh retries.
    }
    gov.timer = setInterval(() => void gov.reload().catch(() => undefined), config.refresh_interval_s * 1000);
    gov.timer.unref();
    return gov;
  }

  private makePricing(cfg: GovernanceConfig): Pricing {
    const warned = new Set<string>();
    return new Pricing({
      overrides: cfg.pricing,
      unknown: cfg.unknown_model_price,
      onUnknown: (provider, model) => {
        if (warned.size < 1000 && !warned.has(`${provider}/${model}`)) {
          warned.add(`${provider}/${model}`);
          this.logger.warn({ provider, model }, 'no price for model; using governance.unknown_model_price');
        }
      },
    });
  }

  get config(): GovernanceConfig {
    return this.cfg;
  }

  get pricing(): Pricing {
    return this.pricingTable;
  }

  /**
   * Applies a new, already validated `governance` section (config hot reload): entities, anonymous limits, prices and policies
   * switch over together once the merged registry is built. `store` and `refresh_interval_s` take effect on restart.
   */
  async reconfigure(cfg: GovernanceConfig): Promise<void> {
    this.cfg = cfg;
    this.base = configEntities(cfg);
    this.pricingTable = this.makePricing(cfg);
    this.enforcer.pricing = this.pricingTable;
    this.enforcer.opts = { ...this.enforcer.opts, budgetStatus: cfg.budget_exceeded_status };
    this.gate.policy = cfg.on_store_error;
    this.ledger.configure(cfg.ledger);
    // Queued behind any running reload; if the store cannot be read, the stored entities already known are kept.
    const next = this.running.then(() => this.loadOnce(true));
    this.running = next.catch(() => undefined);
    await next;
  }

  entities(): Entities {
    return this.registry.entities;
  }

  /**
   * What a new section would break: a customer or team it drops that an entity stored through the admin API still refers to
   * (as the admin API refuses to delete one). Applied, the stored keys under it would lose that level's budget and limits.
   * Only references that resolve now count, so one already dangling does not refuse every later reload.
   */
  referenceProblems(cfg: GovernanceConfig): string[] {
    const next = configEntities(cfg);
    const now = this.registry.entities;
    const dropped = (kind: 'customers' | 'teams', id: string | undefined): boolean =>
      id !== undefined && now[kind].get(id)?.source === 'config' && !next[kind].has(id);
    const problems: string[] = [];
    const refer = (kind: 'customers' | 'teams', id: string, by: string): void => {
      if (problems.length < 10) problems.push(`governance.${kind}: ${kind === 'customers' ? 'customer' : 'team'} '${id}' is still referenced by ${by}`);
    };
    for (const { entity, source } of now.teams.values()) {
      if (source === 'store' && dropped('customers', entity.customer_id)) refer('customers', entity.customer_id!, `stored team '${entity.id}'`);
    }
    for (const { entity, source } of now.keys.values()) {
      if (source !== 'store' || entity.revoked) continue;
      if (dropped('teams', entity.team_id)) refer('teams', entity.team_id!, `stored virtual key '${entity.id}'`);
      if (dropped('customers', entity.customer_id)) refer('customers', entity.customer_id!, `stored virtual key '${entity.id}'`);
    }
    return problems;
  }

  /** Rebuilds the registry from config + store and swaps it in. Calls made during a reload get one more reload after it. */
  reload(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    const next = this.running.then(() => {
      this.queued = undefined;
      return this.loadOnce();
    });
    this.queued = next;
    this.running = next.catch(() => undefined);
    return next;
  }

  private async loadOnce(keepKnownOnError = false): Promise<void> {
    let stored: Map<string, unknown>[];
    let failed = false;
    try {
      stored = await Promise.all(COLLECTIONS.map((c) => this.docs.list(c)));
    } catch (err) {
      this.loadError = err instanceof Error ? err.message : String(err);
      this.logger.error({ err: this.loadError }, 'governance entities could not be loaded; keeping the previous set');
      if (!keepKnownOnError) throw err;
      failed = true;
      const known = this.registry.entities;
      stored = COLLECTIONS.map((kind) => {
        const out = new Map<string, unknown>();
        for (const [id, e] of known[kind]) if (e.source === 'store') out.set(id, e.entity);
        return out;
      });
    }
    const merged: Entities = { customers: new Map(this.base.customers), teams: new Map(this.base.teams), keys: new Map(this.base.keys) };
    const schemas = { customers: customerSchema, teams: teamSchema, keys: keySchema } as const;
    COLLECTIONS.forEach((kind, i) => {
      for (const [id, doc] of stored[i]) {
        if (merged[kind].has(id)) {
          this.logger.warn({ kind, id }, 'stored entity shadows a config entity with the same id; the config entity wins');
          continue;
        }
        const parsed = schemas[kind].safeParse(doc);
        if (!parsed.success) {
          this.logger.warn({ kind, id, issue: parsed.error.issues[0]?.message }, 'invalid stored entity skipped');
          continue;
        }
        (merged[kind] as Map<string, { entity: Customer | Team | VirtualKey; source: 'store' }>).set(id, { entity: parsed.data, source: 'store' });
      }
    });
    this.registry = buildRegistry(merged, this.cfg.anonymous);
    this.capacityCache.clear();
    if (!failed) {
      this.loadedAt = this.now();
      this.loadError = undefined;
    }
  }

  /**
   * Resolves `Authorization: Bearer <key>` to a Caller with one digest and one map lookup. Without a key — or, when anonymous
   * use is allowed, with a token that is not a virtual key (`sk-sy-...`) — the caller is anonymous if that is allowed.
   */
  authenticate(authorization: string | undefined): Promise<Caller> {
    try {
      return Promise.resolve(this.authenticateSync(authorization));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  authenticateSync(authorization: string | undefined): Caller {
    const token = bearerToken(authorization);
    if (token === undefined) {
      if (this.cfg.allow_anonymous) return ANONYMOUS;
      throw unauthorized('Missing API key. Send "Authorization: Bearer <virtual key>".');
    }
    const p = this.registry.byHash.get(hashKey(token));
    if (p === undefined) {
      if (this.cfg.allow_anonymous && !token.startsWith(KEY_PREFIX)) return ANONYMOUS;
      throw unauthorized('Invalid API key.');
    }
    if (p.revoked) throw unauthorized(`The API key '${p.caller.virtualKeyName}' has been revoked.`);
    if (p.expiresAt !== undefined && this.now() >= p.expiresAt) throw unauthorized(`The API key '${p.caller.virtualKeyName}' has expired.`);
    return p.caller;
  }

  /** The principal for an authenticated caller; undefined when its key no longer exists. */
  principal(caller: Caller): Principal | undefined {
    return caller.virtualKeyId === '' ? this.registry.anonymous : this.registry.byKeyId.get(caller.virtualKeyId);
  }

  get enforcement(): Enforcer {
    return this.enforcer;
  }

  /** Highest percentage used across the caller's limits (key, team, customer); reused for `capacity_cache_ms`. */
  capacity(caller: Caller): Promise<Capacity> {
    const id = caller.virtualKeyId === '' ? '' : caller.virtualKeyId;
    const now = this.now();
    const hit = this.capacityCache.get(id);
    if (hit !== undefined && hit.until > now) return hit.value;
    const p = this.principal(caller);
    const value = p === undefined ? Promise.resolve({ budget_used: 0, tokens_used: 0, requests_used: 0 }) : this.enforcer.capacity(p.levels);
    if (this.capacityCache.size > 10_000) this.capacityCache.clear();
    this.capacityCache.set(id, { until: now + this.cfg.capacity_cache_ms, value });
    value.catch(() => this.capacityCache.delete(id));
    return value;
  }

  /** Drops the cached capacity of a caller (after its spend changed on this instance). */
  forgetCapacity(caller: Caller): void {
    this.capacityCache.delete(caller.virtualKeyId);
  }

  /** Usage and remaining budget of one entity's own limits. */
  async usage(kind: EntityKind, id: string): Promise<UsageReport> {
    this.admin.get(kind, id); // 404 when unknown
    const entity = this.registry.entities[kind].get(id)!.entity;
    const level = kind === 'customers' ? customerLevel(entity as Customer) : kind === 'teams' ? teamLevel(entity as Team) : keyLevel(entity as VirtualKey);
    const [{ plan, values }, capacity] = await Promise.all([this.enforcer.current([level]), this.enforcer.capacity([level])]);
    const report: UsageReport = { kind, id, budget: null, rate_limits: [], capacity };
    plan.forEach((p, i) => {
      if (p.metric === 'budget') {
        const used = nanosToUsd(Math.round(values[i]));
        report.budget = {
          limit_usd: nanosToUsd(p.check.limit), period: p.budget!.period, used_usd: used, remaining_usd: Math.max(0, nanosToUsd(p.check.limit - Math.round(values[i]))),
          resets_at: p.budget!.end === Infinity ? null : new Date(p.budget!.end).toISOString(),
        };
      } else {
        const used = Math.ceil(values[i] - 1e-9);
        report.rate_limits.push({ metric: p.rate!.metric, per: p.rate!.unit, limit: p.check.limit, used, remaining: Math.max(0, p.check.limit - used) });
      }
    });
    return report;
  }

  health(): GovernanceHealth {
    const counters = this.gate.health();
    return {
      ok: counters.ok,
      counters,
      entities: {
        store: this.docs.kind,
        ...(this.loadedAt !== undefined ? { loaded_at: new Date(this.loadedAt).toISOString() } : {}),
        ...(this.loadError !== undefined ? { last_error: this.loadError } : {}),
      },
    };
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.enforcer.drain();
    await this.ledger.close();
    await this.running;
    await this.docs.close();
  }
}
