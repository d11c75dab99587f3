/**
 * Admin API for customers, teams and virtual keys (express 5 Router). Mount behind the admin key and JSON body parsing;
 * thrown GatewayErrors reach the app's error handler.
 *
 *   POST   <prefix>/{customers|teams|keys}            create (a key's secret is returned once, as `key`)
 *   GET    <prefix>/{customers|teams|keys}            list
 *   GET    <prefix>/{customers|teams|keys}/:id        get
 *   PATCH  <prefix>/{customers|teams|keys}/:id        update (null clears a field; keys: `revoked`, `expires_at`)
 *   DELETE <prefix>/{customers|teams|keys}/:id        keys: revoke; customers/teams: delete when unreferenced
 *   GET    <prefix>/{customers|teams|keys}/:id/usage  usage, remaining budget and capacity
 */
import { Router, type Request, type Response } from 'express';
import type { Governance } from './governance.js';
import type { EntityKind } from './registry.js';

export interface AdminRouterOptions {
  /** Path prefix of the routes. Default `/admin`; use '' when the router is mounted at `/admin`. */
  prefix?: string;
}

const KINDS: EntityKind[] = ['customers', 'teams', 'keys'];

export function governanceAdminRouter(gov: Governance, opts: AdminRouterOptions = {}): Router {
  const prefix = opts.prefix ?? '/admin';
  const router = Router();
  const svc = gov.admin;
  const id = (req: Request): string => String(req.params.id);

  for (const kind of KINDS) {
    const base = `${prefix}/${kind}`;
    router.post(base, async function createEntity(req: Request, res: Response) {
      const body: unknown = req.body;
      const created = kind === 'customers' ? await svc.createCustomer(body) : kind === 'teams' ? await svc.createTeam(body) : await svc.createKey(body);
      res.status(201).json(created);
    });
    router.get(base, function listEntities(_req: Request, res: Response) {
      res.json({ object: 'list', data: svc.list(kind) });
    });
    router.get(`${base}/:id`, function getEntity(req: Request, res: Response) {
      res.json(svc.get(kind, id(req)));
    });
    router.patch(`${base}/:id`, async function updateEntity(req: Request, res: Response) {
      res.json(await svc.update(kind, id(req), req.body));
    });
    router.delete(`${base}/:id`, async function removeEntity(req: Request, res: Response) {
      res.json(await svc.remove(kind, id(req)));
    });
    router.get(`${base}/:id/usage`, async function entityUsage(req: Request, res: Response) {
      res.json(await gov.usage(kind, id(req)));
    });
  }
  return router;
}
