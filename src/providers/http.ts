/**
 * The HTTP client every adapter uses: undici with one keep-alive connection pool per origin, per-attempt header and idle
 * timeouts, client-abort propagation, and failures mapped by ./failure.ts. A JSON reply is read by a dispatcher handler of
 * our own (`postForJson`: the bytes gathered and parsed, no response stream); a streamed one through undici's `request`.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { GatewayError } from '../errors.js';
import { chosenAccount, classifyNetworkError, classifyStatus, parseRetryAfter, replyTooLarge, unreadableReply, type UpstreamPolicy } from './failure.js';
import type { RateLimitInfo } from './types.js';
import type { AbortSource } from '../pipeline/client-abort.js';

/**
 * No bound on connections per origin: a bound would queue requests here, where their wait would count against the
 * attempt's first-byte deadline and so against the upstream's health. The requests themselves are bounded at the door
 * (server.max_in_flight, src/server/in-flight.ts).
 */
const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, pipelining: 1 });

export interface PostOptions {
  policy: UpstreamPolicy;
  headers: Record<string, string>;
  body: string;
  /** Aborts the call; a JSON call (`postForJson`) only listens to it, so any AbortSource will do there. */
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

/**
 * The rate-limit facts of a reply's headers. `policy` and `sent` (the request's headers), when given, say whether the reply is
 * of an account the caller's own header chose (`callerAccount`): then its limits are that account's, not the key's.
 */
export function rateLimitInfo(headers: UpstreamResponse['headers'], policy?: UpstreamPolicy, sent?: Readonly<Record<string, string>>): RateLimitInfo {
  const info: RateLimitInfo = {
    remainingRequests: num(headers['x-ratelimit-remaining-requests'] ?? headers['anthropic-ratelimit-requests-remaining']),
    limitRequests: num(headers['x-ratelimit-limit-requests'] ?? headers['anthropic-ratelimit-requests-limit']),
    remainingTokens: num(headers['x-ratelimit-remaining-tokens'] ?? headers['anthropic-ratelimit-tokens-remaining']),
    retryAfterS: parseRetryAfter(headers['retry-after']),
  };
  if (policy !== undefined && chosenAccount(policy, sent) !== undefined) info.callerAccount = true;
  return info;
}

/** Largest upstream error body read (the rest is dropped: only its message is used). */
const MAX_ERROR_BODY = 64 * 1024;
/** Largest JSON reply accepted from an upstream, rather than unbounded memory; a bigger one is refused as the caller's (failure.ts, replyTooLarge). */
export const MAX_REPLY_BODY = 64 * 1024 * 1024;

/** Reads an error body up to `max` bytes (only its message is used; the rest is dropped) and releases the connection. */
function readCapped(body: UpstreamResponse['body'], max: number): Promise<Buffer> {
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
 * POSTs a JSON body for a streamed reply. Resolves with the response when the status is 2xx; otherwise reads the error body
 * and throws the classified GatewayError. Network errors and timeouts throw classified errors too.
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
  const info = rateLimitInfo(res.headers, opts.policy, opts.headers);
  opts.onHeaders?.(info);
  if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, headers: res.headers, body: res.body };
  let text: string;
  try {
    text = (await readCapped(res.body, MAX_ERROR_BODY)).toString('utf8');
  } catch (err) {
    throw classifyNetworkError(opts.policy, err, opts.signal.aborted);
  }
  throw statusError(opts.policy, res.statusCode, text, info.retryAfterS, opts.headers);
}

/** The classified error of a non-2xx reply, from its (capped) body: JSON, else its text as the message; `sent`: the request's headers. */
function statusError(policy: UpstreamPolicy, status: number, text: string, retryAfterS: number | undefined, sent: Readonly<Record<string, string>>): GatewayError {
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { parsed = text.length > 0 ? { message: text.slice(0, 2000) } : undefined; }
  return classifyStatus(policy, status, parsed, retryAfterS, sent);
}

/** A JSON call's options: its abort is only listened to, so it need not be an AbortSignal. */
export type JsonPostOptions = Omit<PostOptions, 'signal'> & { signal: AbortSource };

/** A whole JSON reply: its bytes as received (passed on unchanged when nothing changes them) and their parse. */
export interface JsonResponse {
  status: number;
  headers: UpstreamResponse['headers'];
  raw: Buffer;
  json: Record<string, unknown>;
}

/** Origin and path of each upstream URL, parsed once (a handful per config; cleared if it ever grows past the cap). */
const targets = new Map<string, { origin: string; path: string }>();
function targetOf(url: string): { origin: string; path: string } {
  let t = targets.get(url);
  if (t === undefined) {
    const u = new URL(url);
    t = { origin: u.origin, path: `${u.pathname}${u.search}` };
    if (targets.size >= 1024) targets.clear();
    targets.set(url, t);
  }
  return t;
}

/**
 * One JSON call, from the request to the parsed reply, as a handler of undici's dispatcher: no response stream, no request
 * wrapper, one object per call. A 2xx reply is gathered up to MAX_REPLY_BODY and parsed once; any other status has its body
 * read up to MAX_ERROR_BODY and becomes the classified error. The request's signal aborts the call (the listener is this
 * object, removed when the call settles). The reply must be whole within `timeoutMs` of the call (of its headers, if they
 * came later): undici's body timeout is an idle one, so without this a body trickled a byte at a time would hold the
 * attempt, and its request, for ever. Past it the call fails as a body timeout (the upstream's).
 */
class JsonCall implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: UpstreamResponse['headers'] = {};
  private retryAfterS: number | undefined;
  private parts: Buffer[] = [];
  private size = 0;
  private max = MAX_REPLY_BODY;
  private settled = false;
  /** Aborts a reply not whole in time (see the class comment); cleared when the call settles. */
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly opts: JsonPostOptions,
    private readonly resolve: (r: JsonResponse) => void,
    private readonly reject: (e: GatewayError) => void,
  ) {}

  /** Starts the wait for the whole reply. */
  arm(): void {
    this.timer = setTimeout(() => this.expire(), this.opts.timeoutMs);
  }

  /** No reply in time: before its headers undici's headers timeout decides; after them the body has stalled. */
  private expire(): void {
    this.timer = undefined;
    if (this.settled || this.status === 0) return;
    this.controller?.abort(Object.assign(new Error(`the reply was not whole within ${this.opts.timeoutMs} ms`), { code: 'UND_ERR_BODY_TIMEOUT' }));
  }

  /** The signal's abort listener. */
  handleEvent(): void {
    this.controller?.abort(this.opts.signal.reason instanceof Error ? this.opts.signal.reason : new Error('aborted'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.opts.signal.aborted) this.handleEvent();
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: UpstreamResponse['headers']): void {
    if (status < 200) return; // informational
    this.status = status;
    this.headers = headers;
    const info = rateLimitInfo(headers, this.opts.policy, this.opts.headers);
    this.retryAfterS = info.retryAfterS;
    if (status >= 300) this.max = MAX_ERROR_BODY;
    if (this.timer === undefined && !this.settled) this.arm(); // the headers came after the first wait ran out: the body gets one of its own
    this.opts.onHeaders?.(info);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.size += chunk.length;
    if (this.size <= this.max) {
      this.parts.push(chunk);
      return;
    }
    // Past the cap: an error body keeps what fits (only its message is used); a 2xx reply that large is refused.
    if (this.status >= 300) {
      this.parts.push(chunk.subarray(0, chunk.length - (this.size - this.max)));
      this.failStatus();
    } else {
      this.settle(undefined, replyTooLarge(this.opts.policy, MAX_REPLY_BODY));
    }
    controller.abort(new Error('reply body over its limit'));
  }

  onResponseEnd(): void {
    if (this.settled) return;
    if (this.status >= 300) return this.failStatus();
    const raw = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      return this.settle(undefined, unreadableReply(this.opts.policy, 'a reply that is not JSON', err));
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return this.settle(undefined, unreadableReply(this.opts.policy, 'a reply that is not a JSON object'));
    this.settle({ status: this.status, headers: this.headers, raw, json: json as Record<string, unknown> });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (!this.settled) this.settle(undefined, classifyNetworkError(this.opts.policy, err, this.opts.signal.aborted));
  }

  private failStatus(): void {
    this.settle(undefined, statusError(this.opts.policy, this.status, Buffer.concat(this.parts).toString('utf8'), this.retryAfterS, this.opts.headers));
  }

  private settle(res: JsonResponse | undefined, err?: GatewayError): void {
    this.settled = true;
    this.parts = [];
    clearTimeout(this.timer);
    this.opts.signal.removeEventListener('abort', this);
    if (err !== undefined) this.reject(err);
    else this.resolve(res!);
  }
}

/**
 * POSTs a JSON body and reads the whole JSON object reply. Resolves for a 2xx reply; an error status, a network error, a
 * timeout, a reply too large or not a JSON object each reject with the classified GatewayError.
 */
export function postForJson(url: string, opts: JsonPostOptions): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) {
      reject(classifyNetworkError(opts.policy, opts.signal.reason, true));
      return;
    }
    const call = new JsonCall(opts, resolve, reject);
    opts.signal.addEventListener('abort', call, { once: true });
    call.arm();
    const { origin, path } = targetOf(url);
    agent.dispatch({
      origin, path, method: 'POST', headers: { 'content-type': 'application/json', ...opts.headers }, body: opts.body,
      headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs,
    }, call);
  });
}

/**
 * A streamed body to read events from: closing the reader early (the upstream sent its terminator) does not destroy the body,
 * so `releaseBody` can let a finished stream end and keep its connection.
 */
export const streamedBody = (body: UpstreamResponse['body']): AsyncIterable<Buffer> => body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;

/**
 * Longest a streamed body may take to end after its terminator (what is left is the end of the chunked encoding, sent at
 * once): one that goes on sending (the body timeout is an idle one) is destroyed rather than holding its connection.
 */
export const RELEASE_WAIT_MS = 5_000;

/**
 * Frees a streamed body's connection. `clean`: the stream's terminator arrived, so what is left (usually only the end of the
 * chunked encoding) is read and dropped within RELEASE_WAIT_MS, and the keep-alive connection is reused; otherwise
 * (broken, abandoned, client gone, or no end in time) the body is destroyed.
 */
export function releaseBody(body: UpstreamResponse['body'], clean: boolean): void {
  if (body.destroyed || body.readableEnded) return;
  body.on('error', () => undefined); // a late body timeout or reset has nobody left to tell
  if (!clean) {
    body.destroy();
    return;
  }
  const timer = setTimeout(() => body.destroy(), RELEASE_WAIT_MS);
  timer.unref();
  body.once('close', () => clearTimeout(timer));
  body.resume();
}
