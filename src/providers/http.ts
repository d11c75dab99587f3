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
async function readCapped(body: UpstreamResponse['body'], max: number, truncate: boolean): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > max) {
      body.destroy();
      if (!truncate) return undefined;
      parts.push(b.subarray(0, b.length - (size - max)));
      return Buffer.concat(parts);
    }
    parts.push(b);
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
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
