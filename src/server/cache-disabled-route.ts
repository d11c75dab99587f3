/** With the cache off, its stats and admin routes say so instead of looking like an unknown route. */
import express, { type Router } from 'express';
import { GatewayError } from '../errors.js';

export function cacheDisabledRouter(): Router {
  const router = express.Router();
  router.all(['/v1/cache/stats', '/admin/cache', '/admin/cache/*path'], () => {
    throw new GatewayError({ status: 404, message: 'The response cache is disabled (cache.enabled: false).', type: 'invalid_request_error', code: 'cache_disabled', failure: 'caller' });
  });
  return router;
}
