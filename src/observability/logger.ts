/**
 * Structured JSON logs (pino). Secrets are redacted wherever they may appear; prompt text is never logged unless enabled.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'api_key', '*.api_key', 'apiKey', '*.apiKey', 'value', 'keys[*].value', '*.keys[*].value', 'admin_key', '*.admin_key',
  'headers["api-key"]', 'headers["x-api-key"]', 'key', '*.key',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'switchyard' }, redact: { paths: REDACT, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination as pino.DestinationStream | undefined,
  );
}
