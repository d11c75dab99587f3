/**
 * Admin API for routing rules (mounted behind the admin-key middleware, after JSON body parsing):
 *   GET    /admin/rules            effective rules with their source (file | api | file+api)
 *   POST   /admin/rules            create a rule (409 if the name is taken)
 *   GET    /admin/rules/:name      one rule
 *   PUT    /admin/rules/:name      create or replace a rule
 *   PATCH  /admin/rules/:name      {"enabled": bool}
 *   DELETE /admin/rules/:name      delete (a file rule gets a tombstone)
 * Every change is validated on the whole resulting set; refusals are GatewayErrors (400/404/409) for the error middleware.
 */
import { Router, type Request } from 'express';
import { GatewayError, invalidRequest } from '../errors.js';
import type { EffectiveRule, RuleManager } from './manager.js';

const view = (e: EffectiveRule): Record<string, unknown> => ({ ...e.rule, source: e.source });

function body(req: Request): Record<string, unknown> {
  const b: unknown = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw invalidRequest('The request body must be a JSON object.', null, 'invalid_rules');
  return b as Record<string, unknown>;
}

export function rulesAdminRouter(manager: RuleManager): Router {
  const router = Router();

  router.get('/admin/rules', function listRules(_req, res) {
    res.json({ object: 'list', version: manager.storeVersion(), data: manager.list().map(view) });
  });

  router.post('/admin/rules', async function createRule(req, res) {
    res.status(201).json(view(await manager.create(body(req))));
  });

  router.get('/admin/rules/:name', function getRule(req, res) {
    const found = manager.get(req.params.name);
    if (!found) {
      throw new GatewayError({
        status: 404,
        message: `No routing rule named '${req.params.name}'.`,
        type: 'invalid_request_error',
        code: 'rule_not_found',
        failure: 'caller',
      });
    }
    res.json(view(found));
  });

  router.put('/admin/rules/:name', async function replaceRule(req, res) {
    res.json(view(await manager.replace(req.params.name, body(req))));
  });

  router.patch('/admin/rules/:name', async function patchRule(req, res) {
    const b = body(req);
    const extra = Object.keys(b).filter((k) => k !== 'enabled');
    if (extra.length > 0) throw invalidRequest(`PATCH accepts only {"enabled": bool}; unexpected: ${extra.join(', ')}.`, extra[0], 'invalid_rules');
    res.json(view(await manager.setEnabled(req.params.name, b['enabled'])));
  });

  router.delete('/admin/rules/:name', async function deleteRule(req, res) {
    await manager.remove(req.params.name);
    res.json({ name: req.params.name, deleted: true });
  });

  return router;
}
