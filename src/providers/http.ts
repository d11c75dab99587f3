/**
 * The HTTP client every adapter uses: undici with one keep-alive connection pool per origin, per-attempt header and idle
 * timeouts, client-abort propagation, and failures mapped by ./failure.ts.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { GatewayError } from '../errors.js';
import { classifyNetworkError, classifyStatus, parseRetryAfter } from './failure.js';
import type { RateLimitInfo } from './types.js';

const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: 512, pipelining: 1 });

export interface PostOptions {
  provider: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  timeoutMs: number;
  nonRetryable: ReadonlySet<number>;
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
    remainingTokens: num(headers['x-ratelimit-remaining-tokens'] ?? headers['anthropic-ratelimit-tokens-remaining']),
    retryAfterS: parseRetryAfter(headers['retry-after']),
  };
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
    throw classifyNetworkError(opts.provider, err, opts.signal.aborted);
  }
  const info = rateLimitInfo(res.headers);
  opts.onHeaders?.(info);
  if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, headers: res.headers, body: res.body };
  let parsed: unknown;
  try {
    const text = await res.body.text();
    try { parsed = JSON.parse(text); } catch { parsed = text.length > 0 ? { message: text.slice(0, 500) } : undefined; }
  } catch (err) {
    throw classifyNetworkError(opts.provider, err, opts.signal.aborted);
  }
  throw classifyStatus(opts.provider, res.statusCode, parsed, info.retryAfterS, opts.nonRetryable) satisfies GatewayError;
}

/** Reads a whole JSON body, mapping a broken connection to a retryable error. */
export async function readJson(provider: string, res: UpstreamResponse, signal: AbortSignal): Promise<{ raw: Buffer; json: Record<string, unknown> }> {
  let raw: Buffer;
  try {
    raw = Buffer.from(await res.body.arrayBuffer());
  } catch (err) {
    throw classifyNetworkError(provider, err, signal.aborted);
  }
  try {
    return { raw, json: JSON.parse(raw.toString('utf8')) as Record<string, unknown> };
  } catch (err) {
    throw classifyNetworkError(provider, Object.assign(new Error('invalid JSON from upstream'), { code: 'UPSTREAM_BAD_JSON' }), false);
  }
}
