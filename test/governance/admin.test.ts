import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { asGatewayError } from '../../src/errors.js';
import { governanceAdminRouter } from '../../src/governance/admin.js';
import type { Governance } from '../../src/governance/governance.js';
import { makeGov } from './helpers.js';

let gov: Governance;
let server: Server;
let base: string;

before(async () => {
  gov = await makeGov({
    customers: [{ id: 'cfg', name: 'From config' }],
  });
  const app = express();
  app.use(express.json());
  app.use(governanceAdminRouter(gov));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const g = asGatewayError(err);
    res.status(g.status).set(g.headers).json(g.toJSON());
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await gov.close();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

test('customers, teams and keys: create, list, get, update, usage, revoke, delete', async () => {
  let r = await call('POST', '/customers', { id: 'acme', name: 'Acme', budget: { limit_usd: 50, period: 'monthly' } });
  assert.equal(r.status, 201);
  assert.equal(r.json.id, 'acme');
  r = await call('POST', '/teams', { name: 'Research', customer_id: 'acme', rate_limits: { requests_per_minute: 60 } });
  assert.equal(r.status, 201);
  const teamId: string = r.json.id;
  assert.match(teamId, /^team_/);
  r = await call('POST', '/keys', { name: 'ci', team_id: teamId, allowed_models: ['openai/*'] });
  assert.equal(r.status, 201);
  const key = r.json;
  assert.match(key.key, /^sk-sy-/);
  assert.equal(key.key_hash, undefined);
  assert.equal(key.key_prefix, key.key.slice(0, 10));

  r = await call('GET', '/keys');
  assert.equal(r.json.data.length, 1);
  assert.equal(r.json.data[0].key, undefined, 'the secret is shown only at creation');
  r = await call('GET', `/keys/${key.id}`);
  assert.equal(r.json.team_id, teamId);
  assert.equal(r.json.source, 'store');

  r = await call('PATCH', `/keys/${key.id}`, { budget: { limit_usd: 2, period: 'daily' }, allowed_models: null });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.budget, { limit_usd: 2, period: 'daily' });
  assert.equal(r.json.allowed_models, undefined);

  r = await call('GET', `/keys/${key.id}/usage`);
  assert.equal(r.status, 200);
  assert.equal(r.json.budget.limit_usd, 2);
  assert.equal(r.json.budget.used_usd, 0);
  assert.equal(r.json.budget.remaining_usd, 2);
  r = await call('GET', `/teams/${teamId}/usage`);
  assert.deepEqual(r.json.rate_limits, [{ metric: 'requests', per: 'minute', limit: 60, used: 0, remaining: 60 }]);

  assert.equal((await gov.authenticate(`Bearer ${key.key}`)).customerId, 'acme');
  r = await call('DELETE', `/keys/${key.id}`);
  assert.equal(r.json.revoked, true);
  await assert.rejects(gov.authenticate(`Bearer ${key.key}`), /revoked/);

  r = await call('DELETE', '/customers/acme');
  assert.equal(r.status, 409, 'a customer with teams cannot be deleted');
  assert.match(r.json.error.message, /still referenced by team/);
  r = await call('DELETE', `/teams/${teamId}`);
  assert.equal(r.status, 409, 'the revoked key still refers to the team');
});

test('validation errors are 400 naming the field; unknown ids 404; config entities read-only', async () => {
  let r = await call('POST', '/customers', { name: 'X', budget: { limit_usd: 'lots' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.param, 'budget.limit_usd');
  assert.match(r.json.error.message, /^budget\.limit_usd: /);
  r = await call('POST', '/keys', { name: 'k', team_id: 'missing' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.param, 'team_id');
  r = await call('POST', '/keys', { name: 'k', key_hash: 'abc' });
  assert.equal(r.status, 400, 'clients cannot choose a key hash');
  r = await call('POST', '/teams', { name: 'T', colour: 'red' });
  assert.equal(r.status, 400);
  r = await call('GET', '/teams/nope');
  assert.equal(r.status, 404);
  assert.equal(r.json.error.code, 'not_found');
  r = await call('PATCH', '/customers/cfg', { name: 'Renamed' });
  assert.equal(r.status, 409);
  r = await call('POST', '/customers', { id: 'cfg', name: 'Dup' });
  assert.equal(r.status, 409);
  r = await call('GET', '/customers');
  assert.deepEqual(r.json.data.map((c: { id: string; source: string }) => `${c.id}:${c.source}`).sort(), ['acme:store', 'cfg:config']);
});
