import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { asGatewayError } from '../../src/errors.js';
import { rulesAdminRouter } from '../../src/rules/admin-routes.js';
import { RuleManager } from '../../src/rules/manager.js';
import { rule } from './helpers.js';

const tgt = [{ provider: 'openai', model: 'gpt-4o-mini' }];
let server: Server;
let base = '';
let manager: RuleManager;

before(async () => {
  manager = await RuleManager.create({ fileRules: [rule({ name: 'file-a', cel_expression: 'model == "a"', targets: tgt })] });
  const app = express();
  app.use(express.json());
  app.use(rulesAdminRouter(manager));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const g = asGatewayError(err);
    res.status(g.status).json(g.toJSON());
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await manager.close();
  await new Promise((r) => server.close(r));
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

test('CRUD over HTTP with OpenAI-style errors', async () => {
  let r = await call('GET', '/admin/rules');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.data.map((x: any) => `${x.name}:${x.source}`), ['file-a:file']);

  r = await call('POST', '/admin/rules', { name: 'premium', cel_expression: 'headers["x-tier"] == "premium"', targets: tgt });
  assert.equal(r.status, 201);
  assert.equal(r.json.source, 'api');
  assert.equal(r.json.enabled, true);
  assert.equal(r.json.priority, 100);

  r = await call('POST', '/admin/rules', { name: 'premium', cel_expression: 'true', targets: tgt });
  assert.equal(r.status, 409);
  assert.equal(r.json.error.code, 'rule_exists');

  r = await call('POST', '/admin/rules', { name: 'typo', cel_expression: 'budget_usd > 3', targets: tgt });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.type, 'invalid_request_error');
  assert.match(r.json.error.message, /rule "typo".*Unknown variable: budget_usd \(at 1:1\)/);
  assert.equal(r.json.error.code, 'invalid_rules');

  r = await call('POST', '/admin/rules', { name: 'x', cel_expression: 'true', targets: [{ provider: 'p' }] });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.param, 'targets[0].model');
  assert.equal(r.json.error.code, 'invalid_rules');

  r = await call('PATCH', '/admin/rules/file-a', { enabled: false });
  assert.equal(r.status, 200);
  assert.equal(r.json.enabled, false);
  assert.equal(r.json.source, 'file+api');
  r = await call('PATCH', '/admin/rules/file-a', { enabled: false, priority: 1 });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'invalid_rules');

  r = await call('PUT', '/admin/rules/premium', { cel_expression: 'request_type == "embedding"', targets: tgt, priority: 5 });
  assert.equal(r.status, 200);
  assert.equal(r.json.priority, 5);
  r = await call('GET', '/admin/rules/premium');
  assert.equal(r.json.cel_expression, 'request_type == "embedding"');

  r = await call('DELETE', '/admin/rules/file-a');
  assert.deepEqual(r.json, { name: 'file-a', deleted: true });
  r = await call('GET', '/admin/rules/file-a');
  assert.equal(r.status, 404);
  assert.equal(r.json.error.code, 'rule_not_found');
  r = await call('DELETE', '/admin/rules/file-a');
  assert.equal(r.status, 404);

  assert.deepEqual(manager.list().map((e) => e.rule.name), ['premium']);
  assert.equal(manager.current().byName.get('premium')!.priority, 5);
});
