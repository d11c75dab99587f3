/**
 * Structured JSON logs (pino). Secrets are redacted wherever they may appear; prompt text is never logged unless enabled.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'api_key', '*.api_key', 'apiKey', '*.apiKey', 'value', 'keys[*].value', '*.keys[*].value', 'admin_key', '*.admin_key',
  'headers["api-key"]', 'headers["x-api-key"]', 'key', '*.key',
  'headers["x-admin-key"]', '*.headers["x-admin-key"]', 'req.headers["x-admin-key"]', '*.headers.authorization',
  'headers.cookie', '*.headers.cookie', 'req.headers.cookie', 'query.key', 'req.query.key',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'switchyard' }, redact: { paths: REDACT, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination as pino.DestinationStream | undefined,
  );
}

/**
 * The per-request access log: one line per request built by the gateway from ids, names, numbers and decisions — never headers,
 * bodies or keys — so it skips the wildcard redaction scan, and it writes asynchronously to keep the hot path free of
 * synchronous stdout writes. Flushed on shutdown.
 */
export function createRequestLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const dest = destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    { level, base: { service: 'switchyard' }, redact: { paths: ['authorization', 'api_key', 'key'], censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    dest as pino.DestinationStream,
  );
}
