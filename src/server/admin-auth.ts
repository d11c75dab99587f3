/**
 * Admin key middleware: `Authorization: Bearer <admin key>` or `x-admin-key`, compared in constant time. With no admin key
 * configured the protected routes are disabled (404), never open.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError } from '../errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function requireAdmin(adminKey: () => string | undefined) {
  return function adminAuth(req: Request, _res: Response, next: NextFunction): void {
    const key = adminKey();
    if (!key) {
      next(new GatewayError({ status: 404, message: 'Admin routes are disabled: no server.admin_key is configured.', type: 'invalid_request_error', code: 'admin_disabled', failure: 'caller' }));
      return;
    }
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : (req.headers['x-admin-key'] as string | undefined);
    if (!given || !timingSafeEqual(digest(given), digest(key))) {
      next(new GatewayError({ status: 401, message: 'This route requires the admin key.', type: 'authentication_error', code: 'invalid_admin_key', failure: 'caller' }));
      return;
    }
    next();
  };
}
