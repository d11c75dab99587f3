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

/**
 * pino's `isoTime` (`,"time":"2026-01-02T03:04:05.678Z"`) with the text up to the second made once per second: every log
 * line asks for the time, and formatting a whole Date per line was a measurable share of a proxied request's CPU.
 */
export function isoTimeFormatter(now: () => number = Date.now): () => string {
  let second = Number.NaN;
  let prefix = '';
  return () => {
    const t = now();
    const ms = t % 1000;
    const s = t - ms;
    if (s !== second) {
      second = s;
      prefix = `,"time":"${new Date(s).toISOString().slice(0, 20)}`;
    }
    return `${prefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
  };
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'switchyard' }, redact: { paths: REDACT, censor: '[redacted]' }, timestamp: isoTimeFormatter() },
    destination as pino.DestinationStream | undefined,
  );
}

/** Bytes of request-log lines gathered before one write. */
const REQUEST_LOG_BATCH = 4096;
/** Longest a request-log line waits for its batch. */
const REQUEST_LOG_FLUSH_MS = 250;

/**
 * The per-request access log: one line per request built by the gateway from ids, names, numbers and decisions — never headers,
 * bodies or keys — so it skips the wildcard redaction scan, and it writes asynchronously to keep the hot path free of
 * synchronous stdout writes. Lines are batched: written once REQUEST_LOG_BATCH bytes are waiting or every
 * REQUEST_LOG_FLUSH_MS, whichever comes first (one write per request cost a tenth of a proxied request's CPU). Flushed on
 * shutdown and at exit.
 */
export function createRequestLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const dest = destination ?? pino.destination({ dest: 1, sync: false, minLength: REQUEST_LOG_BATCH, periodicFlush: REQUEST_LOG_FLUSH_MS });
  return pino(
    { level, base: { service: 'switchyard' }, redact: { paths: ['authorization', 'api_key', 'key'], censor: '[redacted]' }, timestamp: isoTimeFormatter() },
    dest as pino.DestinationStream,
  );
}
