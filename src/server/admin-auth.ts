/**
 * Admin key middleware: `Authorization: Bearer <admin key>` (read as a virtual key's is, ../governance/keys.ts: the scheme in
 * any case) or `x-admin-key`, compared in constant time. With no admin key configured the protected routes are disabled
 * (404), never open.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError } from '../errors.js';
import { bearerToken } from '../governance/keys.js';

const BEARER = /^\s*bearer\s/i;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function requireAdmin(adminKey: () => string | undefined) {
  return function adminAuth(req: Request, _res: Response, next: NextFunction): void {
    const key = adminKey();
    if (!key) {
      next(new GatewayError({ status: 404, message: 'Admin routes are disabled: no server.admin_key is configured.', type: 'invalid_request_error', code: 'admin_disabled', failure: 'caller' }));
      return;
    }
    // An Authorization header of another scheme (a proxy's Basic, say) leaves the x-admin-key header to speak.
    const auth = req.headers.authorization;
    const bearer = auth !== undefined && BEARER.test(auth) ? bearerToken(auth) : undefined;
    const given = bearer ?? (req.headers['x-admin-key'] as string | undefined);
    if (!given || !timingSafeEqual(digest(given), digest(key))) {
      next(new GatewayError({ status: 401, message: 'This route requires the admin key.', type: 'authentication_error', code: 'invalid_admin_key', failure: 'caller' }));
      return;
    }
    next();
  };
}
