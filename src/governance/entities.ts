/**
 * Create, read, update and revoke customers, teams and virtual keys stored by the admin API. Input is validated with zod and
 * rejected as 400 naming the field; config-declared entities are read-only here (they change with the config file).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { GatewayError, invalidRequest } from '../errors.js';
import type { DocumentStore } from '../store/documents.js';
import { budgetSchema, customerSchema, keySchema, limitsShape, rateLimitsSchema, teamSchema, type Customer, type Team, type VirtualKey } from './config.js';
import { displayPrefix, generateKey, hashKey } from './keys.js';
import type { Entities, EntityKind, Source } from './registry.js';

export interface EntityHost {
  readonly docs: DocumentStore;
  entities(): Entities;
  /** Rebuilds the registry from config + store; resolves once this instance sees the change. */
  reload(): Promise<void>;
}

const notFound = (kind: EntityKind, id: string): GatewayError =>
  new GatewayError({ status: 404, message: `No ${singular(kind)} with id '${id}'.`, type: 'invalid_request_error', code: 'not_found', failure: 'caller' });

const conflict = (message: string): GatewayError =>
  new GatewayError({ status: 409, message, type: 'invalid_request_error', code: 'conflict', failure: 'caller' });

const singular = (kind: EntityKind): string => (kind === 'customers' ? 'customer' : kind === 'teams' ? 'team' : 'virtual key');

/** Parses with zod; the first issue becomes a 400 naming its path. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.map(String).join('.');
  throw invalidRequest(path ? `${path}: ${issue.message}` : issue.message, path || null, 'invalid_body');
}

const newId = (prefix: string): string => `${prefix}_${randomBytes(9).toString('base64url')}`;

/** PATCH bodies: a field set to null is removed. */
const patchShape = {
  name: z.string().min(1).max(200).optional(),
  allowed_models: limitsShape.allowed_models.nullable(),
  budget: budgetSchema.nullable().optional(),
  rate_limits: rateLimitsSchema.nullable().optional(),
  metadata: limitsShape.metadata.nullable(),
};
const customerPatch = z.strictObject(patchShape);
const teamPatch = z.strictObject(patchShape);
const keyPatch = z.strictObject({
  ...patchShape,
  revoked: z.boolean().optional(),
  expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
});

const customerCreate = customerSchema.extend({ id: customerSchema.shape.id.optional() });
const teamCreate = teamSchema.extend({ id: teamSchema.shape.id.optional() });
const keyCreate = keySchema
  .omit({ key_hash: true, key_prefix: true, revoked: true, created_at: true })
  .extend({ id: keySchema.shape.id.optional() });

function applyPatch<T extends object>(entity: T, patch: Record<string, unknown>): T {
  const out = { ...entity } as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out as T;
}

/** What the API shows of a key: never the hash. */
export type KeyView = Omit<VirtualKey, 'key_hash'> & { source: Source };
export const keyView = (k: VirtualKey, source: Source): KeyView => {
  const { key_hash: _hash, ...rest } = k;
  return { ...rest, source };
};

export class EntityService {
  constructor(private readonly host: EntityHost) {}

  private lookup(kind: EntityKind, id: string): { entity: Customer | Team | VirtualKey; source: Source } {
    const hit = this.host.entities()[kind].get(id);
    if (hit === undefined) throw notFound(kind, id);
    return hit;
  }

  private taken(kind: EntityKind, id: string): void {
    if (this.host.entities()[kind].has(id)) throw conflict(`A ${singular(kind)} with id '${id}' already exists.`);
  }

  private writable(kind: EntityKind, id: string): void {
    if (this.lookup(kind, id).source === 'config') {
      throw conflict(`The ${singular(kind)} '${id}' is declared in the config file; change it there.`);
    }
  }

  private async store(kind: EntityKind, id: string, doc: object, create: boolean): Promise<void> {
    if (create) {
      if (!(await this.host.docs.create(kind, id, doc))) throw conflict(`A ${singular(kind)} with id '${id}' already exists.`);
    } else {
      await this.host.docs.put(kind, id, doc);
    }
    await this.host.reload();
  }

  list(kind: EntityKind): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const { entity, source } of this.host.entities()[kind].values()) {
      out.push(kind === 'keys' ? keyView(entity as VirtualKey, source) : { ...entity, source });
    }
    return out;
  }

  get(kind: EntityKind, id: string): Record<string, unknown> {
    const { entity, source } = this.lookup(kind, id);
    return kind === 'keys' ? keyView(entity as VirtualKey, source) : { ...entity, source };
  }

  async createCustomer(input: unknown): Promise<Customer> {
    const parsed = parseInput(customerCreate, input);
    const customer = customerSchema.parse({ ...parsed, id: parsed.id ?? newId('cus') });
    this.taken('customers', customer.id);
    await this.store('customers', customer.id, customer, true);
    return customer;
  }

  async createTeam(input: unknown): Promise<Team> {
    const parsed = parseInput(teamCreate, input);
    const team = teamSchema.parse({ ...parsed, id: parsed.id ?? newId('team') });
    this.taken('teams', team.id);
    if (team.customer_id !== undefined && !this.host.entities().customers.has(team.customer_id)) {
      throw invalidRequest(`customer_id: unknown customer '${team.customer_id}'`, 'customer_id', 'invalid_body');
    }
    await this.store('teams', team.id, team, true);
    return team;
  }

  /** Creates a key; the returned `key` is the only time the secret is ever shown. */
  async createKey(input: unknown): Promise<KeyView & { key: string }> {
    const parsed = parseInput(keyCreate, input);
    const ents = this.host.entities();
    if (parsed.team_id !== undefined) {
      const team = ents.teams.get(parsed.team_id)?.entity;
      if (team === undefined) throw invalidRequest(`team_id: unknown team '${parsed.team_id}'`, 'team_id', 'invalid_body');
      if (parsed.customer_id !== undefined && team.customer_id !== parsed.customer_id) {
        throw invalidRequest(`customer_id: team '${team.id}' does not belong to customer '${parsed.customer_id}'`, 'customer_id', 'invalid_body');
      }
    }
    if (parsed.customer_id !== undefined && !ents.customers.has(parsed.customer_id)) {
      throw invalidRequest(`customer_id: unknown customer '${parsed.customer_id}'`, 'customer_id', 'invalid_body');
    }
    const secret = generateKey();
    const key = keySchema.parse({
      ...parsed,
      id: parsed.id ?? newId('key'),
      key_hash: hashKey(secret),
      key_prefix: displayPrefix(secret),
      revoked: false,
      created_at: new Date().toISOString(),
    });
    this.taken('keys', key.id);
    await this.store('keys', key.id, key, true);
    return { ...keyView(key, 'store'), key: secret };
  }

  async update(kind: EntityKind, id: string, input: unknown): Promise<Record<string, unknown>> {
    this.writable(kind, id);
    const current = this.lookup(kind, id).entity;
    const schema = kind === 'customers' ? customerPatch : kind === 'teams' ? teamPatch : keyPatch;
    const patch = parseInput(schema as z.ZodType<Record<string, unknown>>, input);
    const next = applyPatch(current, patch);
    const full = kind === 'customers' ? customerSchema.parse(next) : kind === 'teams' ? teamSchema.parse(next) : keySchema.parse(next);
    await this.store(kind, id, full, false);
    return this.get(kind, id);
  }

  /** Keys are revoked (kept for audit); customers and teams are deleted once nothing refers to them. */
  async remove(kind: EntityKind, id: string): Promise<Record<string, unknown>> {
    this.writable(kind, id);
    if (kind === 'keys') return this.update('keys', id, { revoked: true });
    const ents = this.host.entities();
    const refs: string[] = [];
    if (kind === 'customers') {
      for (const { entity } of ents.teams.values()) if (entity.customer_id === id) refs.push(`team '${entity.id}'`);
    }
    for (const { entity } of ents.keys.values()) {
      if ((kind === 'customers' && entity.customer_id === id) || (kind === 'teams' && entity.team_id === id)) refs.push(`key '${entity.id}'`);
    }
    if (refs.length > 0) throw conflict(`The ${singular(kind)} '${id}' is still referenced by ${refs.slice(0, 5).join(', ')}${refs.length > 5 ? ', ...' : ''}.`);
    const view = this.get(kind, id);
    await this.host.docs.delete(kind, id);
    await this.host.reload();
    return { ...view, deleted: true };
  }
}
