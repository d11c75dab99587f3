/**
 * The one classifier of upstream failures. Every upstream HTTP error status and every network error becomes a GatewayError
 * carrying its failure class (src/llm/failure.ts), so the executor knows whether to stop, rotate the key or move on, and what
 * the attempt means for the key's health. Upstream text is sanitised (./redact.ts) before it is put into a message.
 */
import { GatewayError } from '../errors.js';
import type { FailureClass } from '../llm/failure.js';
import { redactKeyLike, type Redact } from './redact.js';

/** Upstream statuses that end a request at once as the caller's error, unless configured otherwise. */
export const DEFAULT_NON_RETRYABLE = [400, 409, 413, 415, 422];

/** How one provider's failures are classified and sanitised; built by each adapter from its settings. */
export interface UpstreamPolicy {
  readonly provider: string;
  /** routing.non_retryable_statuses: statuses the operator declared to mean "the request itself was refused". */
  readonly nonRetryable: ReadonlySet<number>;
  readonly redact: Redact;
  /**
   * The provider's static headers (lower case). They replace a caller's header of the same name, so an upstream's refusal
   * of one of them is the operator's setup (the key's failure), never the caller's.
   */
  readonly configured: ReadonlySet<string>;
  /**
   * The caller's headers this upstream reads to choose the account a request is billed to (`ACCOUNT_HEADERS` for OpenAI;
   * none for an upstream that ignores them): only these can be what a refusal in other words than a mismatch code refuses.
   */
  readonly honoured: ReadonlySet<string>;
}

/** OpenAI's headers that choose the organization and project a request is billed to; callers may send them (forwarded). */
export const ACCOUNT_HEADERS: readonly string[] = ['openai-organization', 'openai-project'];

export const upstreamPolicy = (provider: string, nonRetryable: ReadonlySet<number> = new Set(DEFAULT_NON_RETRYABLE), redact: Redact = redactKeyLike, configured: Iterable<string> = [], honoured: Iterable<string> = []): UpstreamPolicy =>
  ({ provider, nonRetryable, redact, configured: new Set(configured), honoured: new Set(honoured) });

export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v === '') return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs);
  const date = Date.parse(v);
  return Number.isFinite(date) ? Math.max(0, (date - Date.now()) / 1000) : undefined;
}

/** Extracts a human message from an upstream error body in OpenAI or Anthropic shape, if it has one. */
export function upstreamMessage(body: unknown): string | undefined {
  if (body && typeof body === 'object') {
    const err = (body as { error?: unknown }).error;
    if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
      return (err as { message: string }).message;
    }
    if (typeof err === 'string') return err;
    const msg = (body as { message?: unknown }).message;
    if (typeof msg === 'string') return msg;
  }
  return undefined;
}

/** The failure class of an upstream HTTP status. The operator's non-retryable list wins over every other rule. */
export function statusClass(status: number, nonRetryable: ReadonlySet<number>): FailureClass {
  if (nonRetryable.has(status)) return 'caller';
  if (status === 401 || status === 403) return 'credential';
  if (status === 429 || status === 402) return 'rate_limited';
  if (status === 404 || status === 410) return 'model_unavailable';
  return 'upstream';
}

/**
 * Error types and codes upstreams give, in an error body or an in-band stream event, for a request they refused as invalid:
 * OpenAI's and Anthropic's `invalid_request_error`, Anthropic's `request_too_large`, OpenAI's codes for an oversized or
 * malformed request, the Responses API's `response.failed` codes for a bad prompt or image, and OpenAI-compatible servers'
 * `BadRequestError`. Compared lower-cased.
 */
const CALLER_WORDS = new Set([
  'invalid_request_error', 'request_too_large', 'context_length_exceeded', 'string_above_max_length', 'invalid_prompt',
  'badrequesterror', 'bad_request', 'invalid_image', 'invalid_image_format', 'invalid_base64_image', 'invalid_image_url',
  'image_too_large', 'image_too_small', 'image_parse_error', 'image_content_policy_violation', 'invalid_image_mode',
  'image_file_too_large', 'unsupported_image_media_type', 'empty_image_file', 'failed_to_download_image', 'image_file_not_found',
]);
const CREDENTIAL_WORDS = new Set(['authentication_error', 'permission_error', 'invalid_api_key']);
const RATE_WORDS = new Set(['rate_limit_error', 'rate_limit_exceeded', 'insufficient_quota', 'billing_error']);
const MODEL_WORDS = new Set(['not_found_error', 'model_not_found']);
/**
 * Codes of a 401/403 that refuses a header of the request, not the key: OpenAI's answer to an `OpenAI-Organization` or
 * `OpenAI-Project` header the key does not belong to (callers may send these; src/providers/execute.ts forwards them).
 * A header the provider is configured with (`UpstreamPolicy.configured`) is the operator's: its refusal stays the key's.
 */
const HEADER_CODES: ReadonlyMap<string, string> = new Map([['mismatched_organization', 'openai-organization'], ['mismatched_project', 'openai-project']]);
/**
 * The same headers with the word an upstream's refusal of each uses in other codes and messages ("No such organization:
 * org-x." with code `invalid_organization` or none; "Project `proj_x` does not exist", `invalid_project`): said of a request
 * that carried the caller's own header, such a 401/403 refuses the header, not the key.
 */
const HEADER_WORDS: ReadonlyArray<readonly [string, RegExp]> = [['openai-organization', /organi[sz]ation/i], ['openai-project', /project/i]];

/** The request carried the caller's own `header` (`sent`), and this upstream reads it and the provider does not set it itself. */
const callerSent = (policy: UpstreamPolicy, sent: Readonly<Record<string, string>>, header: string): boolean =>
  sent[header] !== undefined && policy.honoured.has(header) && !policy.configured.has(header);

/**
 * The caller's header a 401/403 refuses: one its code names (`HEADER_CODES`), or one the upstream reads (`honoured`) and the
 * request carried (`sent`: the attempt's headers) whose word the code or message says. Never a header the provider is
 * configured with (the operator's: its refusal stays the key's).
 */
function refusedHeader(policy: UpstreamPolicy, code: string | number | undefined, detail: string | undefined, sent: Readonly<Record<string, string>> | undefined): string | undefined {
  const named = typeof code === 'string' ? HEADER_CODES.get(code.toLowerCase()) : undefined;
  // A header the gateway did not send (not forwarded to this provider) cannot be the caller's.
  if (named !== undefined) return policy.configured.has(named) || (sent !== undefined && sent[named] === undefined) ? undefined : named;
  if (sent === undefined) return undefined;
  for (const [header, word] of HEADER_WORDS) {
    if (callerSent(policy, sent, header) && ((typeof code === 'string' && word.test(code)) || (detail !== undefined && word.test(detail)))) return header;
  }
  return undefined;
}

/** The HTTP error status a numeric error code stands for (OpenAI-compatible servers send the status they meant), if any. */
function statedStatus(code: string | number | null | undefined): number | undefined {
  if (code === null || code === undefined || code === '') return undefined;
  const n = Number(code);
  return Number.isInteger(n) && n >= 400 && n < 600 ? n : undefined;
}

/** The failure class of a stated error's words alone (see `statedClass`). */
function wordsClass(type: string | null | undefined, code: string | number | null | undefined, nonRetryable: ReadonlySet<number>): FailureClass {
  const status = statedStatus(code);
  if (status !== undefined) return statusClass(status, nonRetryable);
  for (const w of [code, type]) {
    if (typeof w !== 'string') continue;
    const word = w.toLowerCase();
    if (CALLER_WORDS.has(word)) return 'caller';
    if (CREDENTIAL_WORDS.has(word)) return 'credential';
    if (RATE_WORDS.has(word) || /rate.?limit/.test(word)) return 'rate_limited';
    if (MODEL_WORDS.has(word)) return 'model_unavailable';
  }
  return 'upstream';
}

/**
 * A rate-limit refusal that names the limit and a request over it with nothing used besides — OpenAI's "Request too large
 * for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Requested 45000", Groq's the same words. The request
 * alone exceeds the account's limit: no wait and no other key of the account can serve it. A rate limit the caller may
 * wait out names what is already used ("Limit 30000, Used 28000, Requested 6000") or a request within the limit.
 */
const LIMIT_REQUESTED = /\blimit:?\s*(\d[\d,]*)\s*,\s*requested:?\s*(\d[\d,]*)/i;

function overLimit(message: string | null | undefined): boolean {
  const m = message ? LIMIT_REQUESTED.exec(message) : null;
  if (m === null) return false;
  const count = (digits: string): number => Number(digits.replaceAll(',', ''));
  return count(m[2]!) > count(m[1]!);
}

/**
 * A rate limit that names the account's per-minute token limit without the request's size — Anthropic's "This request
 * would exceed the rate limit for your organization (…) of 40,000 input tokens per minute" — said of a request whose own
 * prompt is estimated at well over that limit (`REQUEST_OVER_LIMIT` times it, so an estimate's error never turns a
 * request the account could take after a wait into a refusal): no wait and no other key of the account can serve it.
 */
const PER_MINUTE_LIMIT = /\bof\s+(\d[\d,]*)\s+(?:input\s+)?tokens\s+per\s+minute\b/i;
const REQUEST_OVER_LIMIT = 1.5;

/**
 * The `too_large` 413 for a rate-limited attempt whose request alone is over the per-minute limit the upstream stated
 * (`promptTokens`: the request's estimated prompt, read only when the words name such a limit); undefined otherwise.
 */
export function requestOverStatedLimit(provider: string, err: GatewayError, promptTokens: () => number): GatewayError | undefined {
  if (err.failure !== 'rate_limited') return undefined;
  const m = PER_MINUTE_LIMIT.exec(err.message);
  if (m === null) return undefined;
  const limit = Number(m[1]!.replaceAll(',', ''));
  const estimate = promptTokens();
  if (!(limit > 0) || estimate < REQUEST_OVER_LIMIT * limit) return undefined;
  return errorOfClass(provider, 'too_large', err.upstreamStatus ?? 429, `${err.message} (this request's prompt is about ${estimate} tokens)`, undefined, err.upstreamStatus);
}

/**
 * The classes an upstream's status or words can give besides its own failure. `too_large` is a rate limit the request
 * alone exceeds (`overLimit`): told as a request too large for the provider, tried on the next key and target.
 */
type RefusalClass = 'caller' | 'credential' | 'rate_limited' | 'model_unavailable' | 'too_large';
const REFUSALS: ReadonlySet<string> = new Set<RefusalClass>(['caller', 'credential', 'rate_limited', 'model_unavailable', 'too_large']);
const isRefusal = (c: FailureClass): c is RefusalClass => REFUSALS.has(c);

/** A rate limit whose message says the request alone is over the limit is `too_large`; any other class is kept. */
const readMessage = (failure: FailureClass, message: string | null | undefined): FailureClass =>
  failure === 'rate_limited' && overLimit(message) ? 'too_large' : failure;

/**
 * The failure class of an error the upstream reported in words rather than a status: a 2xx body holding an error object,
 * or an in-band stream error event. A numeric code (OpenAI-compatible servers send the status they meant) is read as that
 * status; otherwise the code, then the type, is looked up; anything else is the upstream's own failure. A rate limit whose
 * message says the request alone is over the limit (`overLimit`) is `too_large`.
 */
export function statedClass(type: string | null | undefined, code: string | number | null | undefined, nonRetryable: ReadonlySet<number>, message?: string | null): FailureClass {
  return readMessage(wordsClass(type, code, nonRetryable), message);
}

/** The error of a refusal class; `status` is the upstream's (real, or the one its words stand for). */
function errorOfClass(provider: string, failure: RefusalClass, status: number, message: string, retryAfterS: number | undefined, upstreamStatus: number | undefined): GatewayError {
  switch (failure) {
    case 'too_large':
      // 413, as Groq answers the same refusal: a 429 would tell the caller (and its SDK's retries) that waiting helps.
      return new GatewayError({
        upstreamStatus, status: 413, message: `Request too large for ${provider}'s rate limit (waiting cannot help): ${message}`,
        type: 'invalid_request_error', code: 'request_too_large', failure: 'too_large',
      });
    case 'credential':
      return new GatewayError({
        upstreamStatus, status: 502, message: `Upstream ${provider} rejected the gateway's credentials (${status})`, type: 'upstream_error',
        code: 'upstream_auth_failed', failure,
      });
    case 'rate_limited':
      return new GatewayError({
        upstreamStatus, status: 429, message, type: 'rate_limit_error', code: status === 402 ? 'upstream_quota_exceeded' : 'upstream_rate_limited',
        failure, retryAfterS, headers: retryAfterS !== undefined ? { 'retry-after': String(Math.ceil(retryAfterS)) } : {},
      });
    case 'model_unavailable':
      return new GatewayError({ upstreamStatus, status: 404, message, type: 'invalid_request_error', param: 'model', code: 'model_not_found', failure });
    default:
      // The upstream refused the request itself: pass its status on so the caller sees what the provider said.
      return new GatewayError({ upstreamStatus, status: status < 500 ? status : 502, message, type: 'invalid_request_error', code: 'upstream_rejected', failure });
  }
}

/** The status a refusal class stands for when the upstream named none. */
const CLASS_STATUS: Readonly<Record<RefusalClass, number>> = { caller: 400, credential: 401, rate_limited: 429, model_unavailable: 404, too_large: 429 };

/**
 * The error for a failure the upstream stated in a 2xx reply (see `statedClass`), or undefined when it is the upstream's
 * own (then the caller of this function builds its upstream error as before).
 */
export function statedError(policy: UpstreamPolicy, type: string | null | undefined, code: string | number | null | undefined, message: string, sent?: Readonly<Record<string, string>>): GatewayError | undefined {
  const failure = statedClass(type, code, policy.nonRetryable, message);
  if (!isRefusal(failure)) return undefined;
  const status = statedStatus(code) ?? CLASS_STATUS[failure];
  const chosen = failure === 'rate_limited' ? chosenAccount(policy, sent) : undefined;
  if (chosen !== undefined) return accountLimit(policy.provider, chosen, status, message, undefined, undefined);
  return errorOfClass(policy.provider, failure, status, message, undefined, undefined);
}

/**
 * The class of an error an upstream reported inside a stream (`StreamFailure.class`): what its words say, except that a
 * rate limit of the account the caller's own header chose (`sent`: the attempt's headers) is the caller's, as for a 429.
 */
export function streamFailureClass(policy: UpstreamPolicy, type: string, code: string | null, message: string, sent: Readonly<Record<string, string>>): FailureClass {
  const failure = statedClass(type, code, policy.nonRetryable, message);
  return failure === 'rate_limited' && chosenAccount(policy, sent) !== undefined ? 'caller' : failure;
}

/** The limit of the account the caller's `header` chose: the caller's 429 to wait out, naming the header; no key rests. */
function accountLimit(provider: string, header: string, status: number, message: string, retryAfterS: number | undefined, upstreamStatus: number | undefined): GatewayError {
  const e = errorOfClass(provider, 'rate_limited', status, message, retryAfterS, upstreamStatus);
  return new GatewayError({ upstreamStatus, status: e.status, message, type: e.type, param: header, code: e.code, failure: 'caller', retryAfterS, headers: e.headers });
}

/** The type and code of an error body (OpenAI's `{error: {type, code}}`, Anthropic's `{type: 'error', error: {type}}`). */
function errorWords(body: unknown): { type?: string; code?: string | number } {
  const err = body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  if (!err || typeof err !== 'object') return {};
  const { type, code } = err as { type?: unknown; code?: unknown };
  return {
    type: typeof type === 'string' ? type : undefined,
    code: typeof code === 'string' || typeof code === 'number' ? code : undefined,
  };
}

/**
 * The account header the caller chose the request's account with, if any: one the upstream reads (`honoured`) and the
 * provider does not set itself, sent on this attempt.
 */
export function chosenAccount(policy: UpstreamPolicy, sent: Readonly<Record<string, string>> | undefined): string | undefined {
  if (sent === undefined) return undefined;
  return ACCOUNT_HEADERS.find((h) => callerSent(policy, sent, h));
}

/**
 * Maps an upstream HTTP error status (and its body) to a GatewayError. A 401/403 whose body names the model
 * (`model_not_found`: a model this key may not use) is `model_unavailable`, not a refusal of the key: the key stays in
 * service for the models it may use. A 401/403 whose code says a header of the request does not match the key
 * (`mismatched_organization`), or whose code or message names the organization or project when the request carried the
 * caller's `OpenAI-Organization` / `OpenAI-Project` header (`sent`, the attempt's headers: "No such organization"), is the
 * caller's 400 naming the header — unless the provider's configuration sets that header (then it is the key's `credential`
 * failure): one tenant's header never takes a key out of service. A 429 whose message says the request alone is over the limit (`overLimit`) is the caller's 413: the key is
 * neither rested nor counted, and no other key is tried. Any other 429/402 to a request whose account the caller's own header
 * chose (`chosenAccount`) is that account's limit: the caller's 429 naming the header, with the upstream's retry-after — the
 * key is not rested for the tenants that did not choose it.
 */
export function classifyStatus(policy: UpstreamPolicy, status: number, body: unknown, retryAfterS: number | undefined, sent?: Readonly<Record<string, string>>): GatewayError {
  const { provider } = policy;
  const detail = upstreamMessage(body);
  const said = detail ? `: ${policy.redact(detail)}` : '';
  const message = `Upstream ${provider} returned ${status}${said}`;
  let failure = readMessage(statusClass(status, policy.nonRetryable), detail);
  if (failure === 'credential') {
    const { type, code } = errorWords(body);
    const header = refusedHeader(policy, code, detail, sent);
    if (header !== undefined) {
      return new GatewayError({ upstreamStatus: status, status: 400, message, type: 'invalid_request_error', param: header, code: 'upstream_rejected', failure: 'caller' });
    }
    if (wordsClass(type, typeof code === 'number' ? undefined : code, policy.nonRetryable) === 'model_unavailable') failure = 'model_unavailable';
  }
  if (failure === 'rate_limited') {
    const chosen = chosenAccount(policy, sent);
    // The limit of the account the caller's header chose: the caller's to wait out; the key stays in service for the rest.
    if (chosen !== undefined) return accountLimit(provider, chosen, status, message, retryAfterS, status);
  }
  if (isRefusal(failure)) return errorOfClass(provider, failure, status, message, retryAfterS, status);
  if (status === 408 || status === 504) return new GatewayError({ upstreamStatus: status, status: 504, message, type: 'timeout_error', code: 'upstream_timeout', failure });
  return new GatewayError({ upstreamStatus: status, status: 502, message, type: 'upstream_error', code: 'upstream_error', failure });
}

/**
 * Errors of the gateway's own machine, not the upstream's: out of file descriptors (the upstream connection pool has no
 * per-origin bound, src/providers/http.ts) or socket memory. The gateway's failure: it never counts against a key.
 */
const LOCAL_EXHAUSTION: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

/** The code of the error a stream's reader throws for an event line over its cap (src/providers/sse.ts, MAX_SSE_LINE). */
export const EVENT_TOO_LARGE = 'UPSTREAM_EVENT_TOO_LARGE';

/**
 * Maps a thrown network/abort error to a GatewayError; one the gateway's own machine caused is the gateway's. A streamed
 * event over the reader's cap is the caller's, as a JSON reply over its cap is (`replyTooLarge`).
 */
export function classifyNetworkError(policy: UpstreamPolicy, err: unknown, clientAborted: boolean): GatewayError {
  const { provider } = policy;
  if (clientAborted) {
    return new GatewayError({ status: 499, message: 'Client closed the request', type: 'invalid_request_error', code: 'client_closed', failure: 'caller' });
  }
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: string } | null)?.code ?? '';
  if (code === EVENT_TOO_LARGE) return replyTooLarge(policy, (err as { limit?: number }).limit ?? 0, true);
  if (LOCAL_EXHAUSTION.has(code)) {
    return new GatewayError({
      status: 503, message: `The gateway is out of ${code === 'ENOMEM' || code === 'ENOBUFS' ? 'memory' : 'file descriptors'} (${code}) and could not reach ${provider}; retry shortly.`,
      type: 'server_error', code: 'gateway_resources_exhausted', failure: 'gateway', headers: { 'retry-after': '1' }, retryAfterS: 1, cause: err,
    });
  }
  // No reply in time: maybe the upstream, maybe a long answer (`timeout`). No connection in time, or a body that stalls
  // after its headers (a JSON reply's headers come with the whole answer): the upstream (`upstream`).
  const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || (err as { name?: string } | null)?.name === 'TimeoutError';
  if (timeout || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new GatewayError({ status: 504, message: `Upstream ${provider} timed out`, type: 'timeout_error', code: 'upstream_timeout', failure: timeout ? 'timeout' : 'upstream', cause: err });
  }
  return new GatewayError({
    status: 502, message: `Upstream ${provider} connection failed (${policy.redact(code) || 'network error'})`, type: 'upstream_error',
    code: 'upstream_unreachable', failure: 'upstream', cause: err,
  });
}

/**
 * A 2xx reply whose body is not the answer it should be: an error object sent with a success status, or another shape. An
 * error object is classified by what it says (`statedClass`: a request refused as invalid is the caller's); anything else
 * is the upstream's failure. Its message, if any, is sanitised like any upstream text.
 */
export function unexpectedReply(policy: UpstreamPolicy, body: unknown, expected: string): GatewayError {
  const detail = upstreamMessage(body);
  if (detail !== undefined) {
    const message = `Upstream ${policy.provider} answered with an error: ${policy.redact(detail)}`;
    const { type, code } = errorWords(body);
    return statedError(policy, type, code, message) ?? new GatewayError({ status: 502, message, type: 'upstream_error', code: 'upstream_error', failure: 'upstream' });
  }
  return unreadableReply(policy, `a reply that is not ${expected}`);
}

/**
 * A successful reply (or one `event` of a streamed reply) larger than the gateway carries back (`limit` bytes): what the
 * request asked for is too large, so it is the caller's — another key or provider would send as much, and counting it
 * against the key would let one tenant's oversized requests (thousands of float embeddings, many long choices, a Response
 * holding several generated images) open the provider's circuit for everyone.
 */
export function replyTooLarge(policy: UpstreamPolicy, limit: number, event = false): GatewayError {
  return overReplyCap(`Upstream ${policy.provider}'s reply to this request ${event ? 'has a streamed event' : 'is'}`, limit);
}

/** The caller's `reply_too_large` for `subject` (what is over the cap, as the message's start) past `limit` bytes. */
export function overReplyCap(subject: string, limit: number): GatewayError {
  return new GatewayError({
    status: 413,
    message: `${subject} larger than the gateway carries (${Math.round(limit / 1048576)} MB): `
      + 'ask for less (fewer inputs, choices or images; embeddings with encoding_format "base64").',
    type: 'invalid_request_error', code: 'reply_too_large', failure: 'caller',
  });
}

/** An upstream reply the gateway cannot read (malformed JSON, wrong shape): the upstream's failure, never the gateway's. */
export function unreadableReply(policy: UpstreamPolicy, what: string, cause?: unknown): GatewayError {
  return new GatewayError({
    status: 502, message: `Upstream ${policy.provider} sent ${what}`, type: 'upstream_error', code: 'upstream_bad_reply', failure: 'upstream', cause,
  });
}
