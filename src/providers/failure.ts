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
}

export const upstreamPolicy = (provider: string, nonRetryable: ReadonlySet<number> = new Set(DEFAULT_NON_RETRYABLE), redact: Redact = redactKeyLike): UpstreamPolicy =>
  ({ provider, nonRetryable, redact });

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

/** Maps an upstream HTTP error status (and its body) to a GatewayError. */
export function classifyStatus(policy: UpstreamPolicy, status: number, body: unknown, retryAfterS: number | undefined): GatewayError {
  const { provider } = policy;
  const detail = upstreamMessage(body);
  const said = detail ? `: ${policy.redact(detail)}` : '';
  const message = `Upstream ${provider} returned ${status}${said}`;
  const failure = statusClass(status, policy.nonRetryable);
  switch (failure) {
    case 'credential':
      return new GatewayError({
        upstreamStatus: status, status: 502, message: `Upstream ${provider} rejected the gateway's credentials (${status})`, type: 'upstream_error',
        code: 'upstream_auth_failed', failure,
      });
    case 'rate_limited':
      return new GatewayError({
        upstreamStatus: status, status: 429, message, type: 'rate_limit_error', code: status === 402 ? 'upstream_quota_exceeded' : 'upstream_rate_limited',
        failure, retryAfterS, headers: retryAfterS !== undefined ? { 'retry-after': String(Math.ceil(retryAfterS)) } : {},
      });
    case 'model_unavailable':
      return new GatewayError({ upstreamStatus: status, status: 404, message, type: 'invalid_request_error', param: 'model', code: 'model_not_found', failure });
    case 'caller':
      // The upstream refused the request itself: pass its status on so the caller sees what the provider said.
      return new GatewayError({ upstreamStatus: status, status: status < 500 ? status : 502, message, type: 'invalid_request_error', code: 'upstream_rejected', failure });
    default:
      if (status === 408 || status === 504) return new GatewayError({ upstreamStatus: status, status: 504, message, type: 'timeout_error', code: 'upstream_timeout', failure });
      return new GatewayError({ upstreamStatus: status, status: 502, message, type: 'upstream_error', code: 'upstream_error', failure });
  }
}

/** Maps a thrown network/abort error to a GatewayError. */
export function classifyNetworkError(policy: UpstreamPolicy, err: unknown, clientAborted: boolean): GatewayError {
  const { provider } = policy;
  if (clientAborted) {
    return new GatewayError({ status: 499, message: 'Client closed the request', type: 'invalid_request_error', code: 'client_closed', failure: 'caller' });
  }
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: string } | null)?.code ?? '';
  const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' ||
    (err as { name?: string } | null)?.name === 'TimeoutError';
  if (timeout) {
    return new GatewayError({ status: 504, message: `Upstream ${provider} timed out`, type: 'timeout_error', code: 'upstream_timeout', failure: 'upstream', cause: err });
  }
  return new GatewayError({
    status: 502, message: `Upstream ${provider} connection failed (${policy.redact(code) || 'network error'})`, type: 'upstream_error',
    code: 'upstream_unreachable', failure: 'upstream', cause: err,
  });
}

/**
 * A 2xx reply whose body is not the answer it should be: an error object sent with a success status, or another shape. The
 * upstream's failure; its message, if any, is sanitised like any upstream text.
 */
export function unexpectedReply(policy: UpstreamPolicy, body: unknown, expected: string): GatewayError {
  const detail = upstreamMessage(body);
  if (detail !== undefined) {
    return new GatewayError({
      status: 502, message: `Upstream ${policy.provider} answered with an error: ${policy.redact(detail)}`, type: 'upstream_error',
      code: 'upstream_error', failure: 'upstream',
    });
  }
  return unreadableReply(policy, `a reply that is not ${expected}`);
}

/** An upstream reply the gateway cannot read (malformed JSON, wrong shape): the upstream's failure, never the gateway's. */
export function unreadableReply(policy: UpstreamPolicy, what: string, cause?: unknown): GatewayError {
  return new GatewayError({
    status: 502, message: `Upstream ${policy.provider} sent ${what}`, type: 'upstream_error', code: 'upstream_bad_reply', failure: 'upstream', cause,
  });
}
