/**
 * Virtual-key secrets: generation, hashing and parsing of the Authorization header. Secrets are 256 random bits, so a plain
 * SHA-256 digest is a sound verifier (no password-style stretching needed); only digests are stored. Lookups go by digest,
 * which an attacker cannot steer, so a map lookup leaks nothing useful through timing.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'sk-sy-';

/** A new secret: `sk-sy-` + 43 base64url characters (32 random bytes). */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashKey(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** The part of a secret safe to show in listings. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, KEY_PREFIX.length + 4);
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/** The token of an `Authorization: Bearer <token>` header; undefined when absent or empty. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  let s = authorization.trim();
  if (s.length >= 6 && s.slice(0, 6).toLowerCase() === 'bearer' && (s.length === 6 || s.charCodeAt(6) <= 32)) s = s.slice(6).trim();
  return s.length > 0 ? s : undefined;
}
