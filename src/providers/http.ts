/**
 * The HTTP client every adapter uses: undici with one keep-alive connection pool per origin, per-attempt header and idle
 * timeouts, client-abort propagation, and failures mapped by ./failure.ts. Every reply is read by a dispatcher handler of
 * our own, with no response stream: a JSON one here (`postForJson`: the bytes gathered and parsed), a streamed one in
 * ./stream-call.ts (`postForStream`).
 */
import { Agent, type Dispatcher } from 'undici';
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
  /** Aborts the call: only listened to, so it need not be an AbortSignal (src/pipeline/client-abort.ts). */
  signal: AbortSource;
  timeoutMs: number;
  onHeaders?: (info: RateLimitInfo) => void;
}

/** A reply's headers as undici gives them. */
export type UpstreamHeaders = Record<string, string | string[] | undefined>;

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
export function rateLimitInfo(headers: UpstreamHeaders, policy?: UpstreamPolicy, sent?: Readonly<Record<string, string>>): RateLimitInfo {
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

/** The classified error of a non-2xx reply, from its (capped) body: JSON, else its text as the message; `sent`: the request's headers. */
function statusError(policy: UpstreamPolicy, status: number, text: string, retryAfterS: number | undefined, sent: Readonly<Record<string, string>>): GatewayError {
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { parsed = text.length > 0 ? { message: text.slice(0, 2000) } : undefined; }
  return classifyStatus(policy, status, parsed, retryAfterS, sent);
}

/** The body of a non-2xx reply, read up to MAX_ERROR_BODY for its message (the rest is dropped). */
export class ErrorBody {
  private readonly parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly status: number, private readonly retryAfterS: number | undefined) {}

  /** Adds a chunk; true when it went past MAX_ERROR_BODY (what fits is kept, and the rest need not be read). */
  add(chunk: Buffer): boolean {
    const room = MAX_ERROR_BODY - this.size;
    this.parts.push(chunk.length <= room ? chunk : chunk.subarray(0, room));
    this.size += Math.min(chunk.length, room);
    return chunk.length > room;
  }

  /** The classified error; `sent`: the request's headers. */
  toGatewayError(policy: UpstreamPolicy, sent: Readonly<Record<string, string>>): GatewayError {
    return statusError(policy, this.status, Buffer.concat(this.parts).toString('utf8'), this.retryAfterS, sent);
  }
}

/**
 * What the two upstream calls (a JSON reply's here, a stream's in ./stream-call.ts) share as dispatcher handlers: the
 * request's abort reaches the call through this object, which whoever starts the call adds as the signal's listener.
 */
export abstract class ListeningCall<R> {
  protected controller: Dispatcher.DispatchController | undefined;

  constructor(
    protected readonly opts: PostOptions,
    /** The call's answer, or its classified failure. */
    protected readonly resolve: (r: R) => void,
    protected readonly reject: (e: GatewayError) => void,
  ) {}

  /** The signal's abort listener. */
  handleEvent(): void {
    this.controller?.abort(this.opts.signal.reason instanceof Error ? this.opts.signal.reason : new Error('aborted'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.opts.signal.aborted) this.handleEvent();
  }
}

/**
 * Starts one call: a POST of `opts.body` through the shared pool, its reply to the handler `make` builds, which the
 * request's abort reaches (a signal already aborted rejects at once, as the client's).
 */
export function startCall<R>(url: string, opts: PostOptions, make: (resolve: (r: R) => void, reject: (e: GatewayError) => void) => ListeningCall<R> & Dispatcher.DispatchHandler): Promise<R> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) {
      reject(classifyNetworkError(opts.policy, opts.signal.reason, true));
      return;
    }
    const call = make(resolve, reject);
    opts.signal.addEventListener('abort', call, { once: true });
    const { origin, path } = targetOf(url);
    agent.dispatch({
      origin, path, method: 'POST', headers: { 'content-type': 'application/json', ...opts.headers }, body: opts.body,
      headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs,
    }, call);
  });
}

/** A whole JSON reply: its bytes as received (passed on unchanged when nothing changes them) and their parse. */
export interface JsonResponse {
  status: number;
  headers: UpstreamHeaders;
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
class JsonCall extends ListeningCall<JsonResponse> implements Dispatcher.DispatchHandler {
  private status = 0;
  private headers: UpstreamHeaders = {};
  /** The body of a non-2xx reply, read for its message. */
  private error: ErrorBody | undefined;
  private parts: Buffer[] = [];
  private size = 0;
  private settled = false;
  /** Aborts a reply not whole in time (see the class comment); cleared when the call settles. */
  private timer: ReturnType<typeof setTimeout> | undefined;

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

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: UpstreamHeaders): void {
    if (status < 200) return; // informational
    this.status = status;
    this.headers = headers;
    const info = rateLimitInfo(headers, this.opts.policy, this.opts.headers);
    if (status >= 300) this.error = new ErrorBody(status, info.retryAfterS);
    if (this.timer === undefined && !this.settled) this.arm(); // the headers came after the first wait ran out: the body gets one of its own
    this.opts.onHeaders?.(info);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    // Past its cap, an error body keeps what fits (only its message is used); a 2xx reply that large is refused.
    if (this.error !== undefined) {
      if (!this.error.add(chunk)) return;
      this.failStatus();
    } else {
      this.size += chunk.length;
      if (this.size <= MAX_REPLY_BODY) {
        this.parts.push(chunk);
        return;
      }
      this.settle(undefined, replyTooLarge(this.opts.policy, MAX_REPLY_BODY));
    }
    controller.abort(new Error('reply body over its limit'));
  }

  onResponseEnd(): void {
    if (this.settled) return;
    if (this.error !== undefined) return this.failStatus();
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
    this.settle(undefined, this.error!.toGatewayError(this.opts.policy, this.opts.headers));
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
export function postForJson(url: string, opts: PostOptions): Promise<JsonResponse> {
  return startCall(url, opts, (resolve, reject) => {
    const call = new JsonCall(opts, resolve, reject);
    call.arm();
    return call;
  });
}
