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

/**
 * Most bytes of log lines held while stdout does not take them (a log reader that stalls: a full pipe, a stuck shipper),
 * for the gateway's log and the request log each: lines past it are dropped rather than held in memory without bound.
 */
export const LOG_MAX_BUFFER = 16 * 1024 * 1024;

/**
 * The gateway's log, on stdout unless `destination` says otherwise: written asynchronously (pino's default) and bounded like
 * the request log, so a stalled stdout drops lines past LOG_MAX_BUFFER instead of holding them in memory.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'switchyard' }, redact: { paths: REDACT, censor: '[redacted]' }, timestamp: isoTimeFormatter() },
    (destination ?? pino.destination({ dest: 1, sync: false, maxLength: LOG_MAX_BUFFER })) as pino.DestinationStream,
  );
}

/** Bytes of request-log lines gathered before one write. */
const REQUEST_LOG_BATCH = 4096;
/** Longest a request-log line waits for its batch. */
const REQUEST_LOG_FLUSH_MS = 250;

/** The request log's asynchronous, batched and bounded output on file descriptor `fd` (stdout by default). */
export function requestLogDestination(fd = 1): pino.DestinationStream & NodeJS.EventEmitter {
  return pino.destination({ dest: fd, sync: false, minLength: REQUEST_LOG_BATCH, maxLength: LOG_MAX_BUFFER, periodicFlush: REQUEST_LOG_FLUSH_MS });
}
/** Top-level fields the request log censors (its lines never carry them; the redaction is a safety net). */
const REQUEST_REDACT = ['authorization', 'api_key', 'key'];

/** The request logger's pino options (shared with the tests that check the line is what pino writes). */
export function requestLoggerOptions(level: string, now?: () => number): pino.LoggerOptions {
  return { level, base: { service: 'switchyard' }, redact: { paths: REQUEST_REDACT, censor: '[redacted]' }, timestamp: isoTimeFormatter(now) };
}

/** The per-request access log: one line (`"msg":"request"`, level info) per finished request. */
export interface RequestLog {
  write(record: Readonly<Record<string, unknown>>): void;
  flush(): void;
}

/** A request log written through a given logger (an embedder's or a test's): `logger.info(record, 'request')`. */
export function requestLogOf(logger: Logger): RequestLog {
  return { write: (record) => logger.info(record, 'request'), flush: () => logger.flush() };
}

/**
 * The gateway's own request log: one line per request built by the gateway from ids, names, numbers and decisions — never
 * headers, bodies or keys — written asynchronously to keep the hot path free of synchronous stdout writes. Lines are
 * batched: written once REQUEST_LOG_BATCH bytes are waiting or every REQUEST_LOG_FLUSH_MS, whichever comes first (one write
 * per request cost a tenth of a proxied request's CPU), and at most LOG_MAX_BUFFER bytes wait while the output is
 * stalled (lines past it are dropped). Flushed on shutdown and at exit.
 *
 * The line is the one pino writes for `info(record, 'request')`, serialised by one `JSON.stringify` of the record instead
 * of pino's per-field loop (which cost about a seventh of a proxied request's instructions). A record pino would treat
 * differently — a censored field present, or a value JSON.stringify refuses (a cycle, a BigInt) — goes through pino.
 */
export function createRequestLog(level: string, destination?: NodeJS.WritableStream, now?: () => number): RequestLog {
  const dest = (destination ?? requestLogDestination()) as pino.DestinationStream;
  const options = requestLoggerOptions(level, now);
  const time = options.timestamp as () => string;
  const logger = pino(options, dest);
  const head = `{"level":${logger.levels.values.info}`;
  const base = `,${JSON.stringify(options.base).slice(1, -1)}`;
  return {
    write(record) {
      if (!logger.isLevelEnabled('info')) return;
      let props: string | undefined;
      if (record.authorization === undefined && record.api_key === undefined && record.key === undefined) {
        try {
          props = JSON.stringify(record);
        } catch {
          props = undefined;
        }
      }
      if (props === undefined) logger.info(record, 'request');
      else dest.write(`${head}${time()}${base}${props.length > 2 ? `,${props.slice(1, -1)}` : ''},"msg":"request"}\n`);
    },
    flush: () => logger.flush(),
  };
}
