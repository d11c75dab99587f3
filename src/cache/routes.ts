/**
 * HTTP routes of the cache: admin operations (clear all, clear a partition, inspect an entry) and the stats endpoint.
 * The integrator mounts both behind the admin key.
 */
import { Router, type Request, type Response } from 'express';
import type { SemanticCache } from './semantic-cache.js';

const errorBody = (message: string, code: string) => ({ error: { message, type: 'invalid_request_error', param: null, code } });

/** DELETE /admin/cache, DELETE /admin/cache/partitions/:id, GET /admin/cache/entries/:key. */
export function cacheAdminRouter(cache: SemanticCache): Router {
  const r = Router();
  r.delete('/admin/cache', async function clearCache(_req: Request, res: Response) {
    res.json({ deleted: await cache.clear() });
  });
  r.delete('/admin/cache/partitions/:id', async function clearPartition(req: Request, res: Response) {
    const id = String(req.params.id);
    if (!/^[0-9a-f]{32}$/.test(id)) { res.status(400).json(errorBody('partition id must be 32 hex characters', 'invalid_partition')); return; }
    res.json({ partition: id, deleted: await cache.clearPartition(id) });
  });
  r.get('/admin/cache/entries/:key', async function inspectEntry(req: Request, res: Response) {
    const info = await cache.inspect(String(req.params.key));
    if (info === undefined) { res.status(404).json(errorBody('no live cache entry under this key', 'not_found')); return; }
    res.json(info);
  });
  return r;
}

/** GET /v1/cache/stats. */
export function cacheStatsRouter(cache: SemanticCache): Router {
  const r = Router();
  r.get('/v1/cache/stats', function cacheStats(_req: Request, res: Response) {
    res.json(cache.snapshot());
  });
  return r;
}
