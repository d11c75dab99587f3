/**
 * The resolved, immutable view of every customer, team and virtual key: built whole from the config file and the store, then
 * swapped in atomically. Authentication is one map lookup by key digest; each principal carries its chain of limit levels
 * (key, team, customer) with allow-lists compiled once.
 */
import { ANONYMOUS, type Caller } from '../pipeline/context.js';
import type { Budget, Customer, RateLimits, Team, VirtualKey } from './config.js';
import { compileAllowList, type ModelMatcher } from './patterns.js';

export type EntityKind = 'customers' | 'teams' | 'keys';
export type Source = 'config' | 'store';

/** One level whose limits apply to a request. */
export interface LimitLevel {
  /** Counter namespace, e.g. `k:<id>`, `t:<id>`, `c:<id>`, `anon`. */
  scope: string;
  /** For messages: `virtual key 'ci'`. */
  label: string;
  allowedModels?: readonly string[];
  allowed?: ModelMatcher;
  budget?: Budget;
  rateLimits?: RateLimits;
}

/** A level's bound on requests in flight at once (`rate_limits.max_parallel_requests`), as admission counts it. */
export interface ParallelLimit {
  readonly scope: string;
  readonly label: string;
  readonly max: number;
}

export interface Principal {
  caller: Caller;
  /** Most specific first: key, team, customer. */
  levels: LimitLevel[];
  /** The levels' bounds on requests in flight, made once with the registry (admission reads them on every request). */
  parallel: readonly ParallelLimit[];
  revoked: boolean;
  /** Epoch ms, or undefined. */
  expiresAt?: number;
}

export interface Entities {
  customers: Map<string, { entity: Customer; source: Source }>;
  teams: Map<string, { entity: Team; source: Source }>;
  keys: Map<string, { entity: VirtualKey; source: Source }>;
}

export interface Registry {
  readonly entities: Entities;
  readonly byHash: ReadonlyMap<string, Principal>;
  readonly byKeyId: ReadonlyMap<string, Principal>;
  readonly anonymous: Principal;
}

interface Limited {
  allowed_models?: string[];
  budget?: Budget;
  rate_limits?: RateLimits;
}

export function levelOf(scope: string, label: string, e: Limited): LimitLevel {
  return {
    scope,
    label,
    allowedModels: e.allowed_models,
    allowed: e.allowed_models === undefined ? undefined : compileAllowList(e.allowed_models),
    budget: e.budget,
    rateLimits: e.rate_limits,
  };
}

export const customerLevel = (c: Customer): LimitLevel => levelOf(`c:${c.id}`, `customer '${c.name}'`, c);
export const teamLevel = (t: Team): LimitLevel => levelOf(`t:${t.id}`, `team '${t.name}'`, t);
export const keyLevel = (k: VirtualKey): LimitLevel => levelOf(`k:${k.id}`, `virtual key '${k.name}'`, k);

/**
 * Builds the registry. Store entities never replace config entities with the same id (the admin API refuses such ids), and
 * references to missing parents are ignored for limits (the key keeps working with its own limits) so that one bad record
 * cannot lock everyone out.
 */
export function buildRegistry(entities: Entities, anonymousLimits: Limited): Registry {
  const customerLevels = new Map<string, LimitLevel>();
  for (const { entity } of entities.customers.values()) customerLevels.set(entity.id, customerLevel(entity));
  const teamLevels = new Map<string, LimitLevel>();
  for (const { entity } of entities.teams.values()) teamLevels.set(entity.id, teamLevel(entity));

  const byHash = new Map<string, Principal>();
  const byKeyId = new Map<string, Principal>();
  for (const { entity: k } of entities.keys.values()) {
    const team = k.team_id === undefined ? undefined : entities.teams.get(k.team_id)?.entity;
    const customerId = team?.customer_id ?? k.customer_id;
    const customer = customerId === undefined ? undefined : entities.customers.get(customerId)?.entity;
    const caller: Caller = Object.freeze({
      virtualKeyId: k.id,
      virtualKeyName: k.name,
      teamId: team?.id ?? '',
      teamName: team?.name ?? '',
      customerId: customer?.id ?? '',
      customerName: customer?.name ?? '',
    });
    const levels = [keyLevel(k)];
    if (team !== undefined) levels.push(teamLevels.get(team.id)!);
    if (customer !== undefined) levels.push(customerLevels.get(customer.id)!);
    const principal: Principal = {
      caller,
      levels,
      parallel: parallelOf(levels),
      revoked: k.revoked,
      expiresAt: k.expires_at === undefined ? undefined : Date.parse(k.expires_at),
    };
    byHash.set(k.key_hash, principal);
    byKeyId.set(k.id, principal);
  }
  const anonymousLevels = [levelOf('anon', 'anonymous callers', anonymousLimits)];
  const anonymous: Principal = { caller: ANONYMOUS, levels: anonymousLevels, parallel: parallelOf(anonymousLevels), revoked: false };
  return { entities, byHash, byKeyId, anonymous };
}

/** No bound on requests in flight (shared: nothing is allocated for a caller without one). */
export const NO_PARALLEL_LIMITS: readonly ParallelLimit[] = Object.freeze([]);

function parallelOf(levels: readonly LimitLevel[]): readonly ParallelLimit[] {
  const out = levels.flatMap((l) => {
    const max = l.rateLimits?.max_parallel_requests;
    return max === undefined ? [] : [{ scope: l.scope, label: l.label, max }];
  });
  return out.length === 0 ? NO_PARALLEL_LIMITS : Object.freeze(out);
}
