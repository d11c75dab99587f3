/**
 * The HTTP client every adapter uses: undici with one keep-alive connection pool per origin, per-attempt header and idle
 * timeouts, client-abort propagation, and failures mapped by ./failure.ts.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { GatewayError } from '../errors.js';
import { classifyNetworkError, classifyStatus, parseRetryAfter, unreadableReply, type UpstreamPolicy } from './failure.js';
import type { RateLimitInfo } from './types.js';

const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: 512, pipelining: 1 });

export interface PostOptions {
  policy: UpstreamPolicy;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  timeoutMs: number;
  onHeaders?: (info: RateLimitInfo) => void;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

const num = (v: string | string[] | undefined): number | undefined => {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
};

export function rateLimitInfo(headers: UpstreamResponse['headers']): RateLimitInfo {
  return {
    remainingRequests: num(headers['x-ratelimit-remaining-requests'] ?? headers['anthropic-ratelimit-requests-remaining']),
    limitRequests: num(headers['x-ratelimit-limit-requests'] ?? headers['anthropic-ratelimit-requests-limit']),
    remainingTokens: num(headers['x-ratelimit-remaining-tokens'] ?? headers['anthropic-ratelimit-tokens-remaining']),
    retryAfterS: parseRetryAfter(headers['retry-after']),
  };
}

/** Largest upstream error body read (the rest is dropped: only its message is used). */
const MAX_ERROR_BODY = 64 * 1024;
/** Largest JSON reply accepted from an upstream; a bigger one is an upstream failure rather than unbounded memory. */
export const MAX_REPLY_BODY = 64 * 1024 * 1024;

/**
 * Reads a body up to `max` bytes and releases the connection. Past `max`: with `truncate` the first `max` bytes are returned
 * (an error body: only its message is used), without it undefined (a reply that is too large).
 */
function readCapped(body: UpstreamResponse['body'], max: number, truncate: boolean): Promise<Buffer | undefined> {
  // Plain 'data' / 'end' listeners: a body is one or two chunks, and an async iterator per body cost more than reading it.
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= max) {
        parts.push(chunk);
        return;
      }
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
      body.off('error', reject);
      body.on('error', () => undefined); // the abort error destroying it may raise
      body.destroy();
      if (!truncate) return resolve(undefined);
      parts.push(chunk.subarray(0, chunk.length - (size - max)));
      resolve(Buffer.concat(parts));
    };
    let ended = false;
    const onEnd = (): void => {
      ended = true;
      resolve(parts.length === 1 ? parts[0] : Buffer.concat(parts));
    };
    // Closed without 'end' (an 'error' came first and already settled it, or nothing did).
    const onClose = (): void => {
      if (!ended) reject(Object.assign(new Error('the upstream body closed before it ended'), { code: 'UND_ERR_SOCKET' }));
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('close', onClose);
    body.once('error', reject);
  });
}

/**
 * POSTs a JSON body. Resolves with the response when the status is 2xx; otherwise drains the body and throws the classified
 * GatewayError. Network errors and timeouts throw classified errors too.
 */
export async function postJson(url: string, opts: PostOptions): Promise<UpstreamResponse> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...opts.headers },
      body: opts.body,
      signal: opts.signal,
      dispatcher: agent,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
  } catch (err) {
    throw classifyNetworkError(opts.policy, err, opts.signal.aborted);
  }
  const info = rateLimitInfo(res.headers);
  opts.onHeaders?.(info);
  if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, headers: res.headers, body: res.body };
  let parsed: unknown;
  try {
    const text = (await readCapped(res.body, MAX_ERROR_BODY, true))!.toString('utf8');
    try { parsed = JSON.parse(text); } catch { parsed = text.length > 0 ? { message: text.slice(0, 2000) } : undefined; }
  } catch (err) {
    throw classifyNetworkError(opts.policy, err, opts.signal.aborted);
  }
  throw classifyStatus(opts.policy, res.statusCode, parsed, info.retryAfterS) satisfies GatewayError;
}

/** Reads a whole JSON object body, mapping a broken connection or a body that is not a JSON object to an upstream failure. */
export async function readJson(policy: UpstreamPolicy, res: UpstreamResponse, signal: AbortSignal): Promise<{ raw: Buffer; json: Record<string, unknown> }> {
  let raw: Buffer | undefined;
  try {
    raw = await readCapped(res.body, MAX_REPLY_BODY, false);
  } catch (err) {
    throw classifyNetworkError(policy, err, signal.aborted);
  }
  if (raw === undefined) throw unreadableReply(policy, `a reply over ${MAX_REPLY_BODY} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw unreadableReply(policy, 'a reply that is not JSON', err);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw unreadableReply(policy, 'a reply that is not a JSON object');
  return { raw, json: json as Record<string, unknown> };
}

/**
 * A streamed body to read events from: closing the reader early (the upstream sent its terminator) does not destroy the body,
 * so `releaseBody` can let a finished stream end and keep its connection.
 */
export const streamedBody = (body: UpstreamResponse['body']): AsyncIterable<Buffer> => body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;

/**
 * Frees a streamed body's connection. `clean`: the stream's terminator arrived, so what is left (usually only the end of the
 * chunked encoding) is read and dropped, bounded by the body timeout, and the keep-alive connection is reused; otherwise
 * (broken, abandoned, client gone) the body is destroyed.
 */
export function releaseBody(body: UpstreamResponse['body'], clean: boolean): void {
  if (body.destroyed || body.readableEnded) return;
  body.on('error', () => undefined); // a late body timeout or reset has nobody left to tell
  if (clean) body.resume();
  else body.destroy();
}
