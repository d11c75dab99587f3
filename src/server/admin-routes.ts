/**
 * Gateway-level admin routes: route explain (what would happen to a request, without calling any upstream) and config reload.
 * Mounted behind the admin key.
 */
import express, { type Router } from 'express';
import { z } from 'zod';
import { invalidRequest } from '../errors.js';
import { buildContext } from '../pipeline/build-context.js';
import { ANONYMOUS, type Caller, type RequestContext } from '../pipeline/context.js';
import { formatPath } from '../config/load.js';
import { checkLimits, type InputLimits } from './request-body.js';

const explainBody = z.object({
  endpoint: z.enum(['chat', 'completion', 'embedding']).default('chat'),
  request: z.record(z.string(), z.unknown()),
  headers: z.record(z.string(), z.string()).default({}),
  /** Resolve the caller from a virtual key, as a real request would. */
  api_key: z.string().optional(),
  /** Or give the caller's ids directly. */
  caller: z.object({
    virtual_key_id: z.string().default(''), virtual_key_name: z.string().default(''),
    team_id: z.string().default(''), team_name: z.string().default(''),
    customer_id: z.string().default(''), customer_name: z.string().default(''),
  }).partial().optional(),
}).strict();

export interface AdminRouteDeps {
  authenticate(authorization: string | undefined): Promise<Caller>;
  explain(ctx: RequestContext): Promise<unknown>;
  reload(): Promise<string[]>;
  /** The limits a proxied request is held to; the request to explain is held to them too. */
  limits(): InputLimits;
}

export function gatewayAdminRouter(deps: AdminRouteDeps): Router {
  const router = express.Router();
  router.post('/admin/route/explain', async (req, res) => {
    const parsed = explainBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw invalidRequest(`${formatPath(issue.path)}: ${issue.message}`, formatPath(issue.path));
    }
    const b = parsed.data;
    let caller: Caller = ANONYMOUS;
    if (b.api_key !== undefined) caller = await deps.authenticate(`Bearer ${b.api_key}`);
    else if (b.caller) {
      const c = b.caller;
      caller = {
        virtualKeyId: c.virtual_key_id ?? '', virtualKeyName: c.virtual_key_name ?? '', teamId: c.team_id ?? '',
        teamName: c.team_name ?? '', customerId: c.customer_id ?? '', customerName: c.customer_name ?? '',
      };
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(b.headers)) headers[k.toLowerCase()] = v;
    const limits = deps.limits();
    checkLimits(b.request, limits);
    const ctx = buildContext(b.endpoint, b.request, headers, caller, new AbortController().signal, { maxMessages: limits.max_messages });
    res.json(await deps.explain(ctx));
  });
  router.post('/admin/config/reload', async (_req, res) => {
    const errors = await deps.reload();
    if (errors.length > 0) throw invalidRequest(`Config reload refused: ${errors.join('; ')}`, null, 'invalid_config');
    res.json({ status: 'reloaded' });
  });
  return router;
}
