/**
 * The one failure classifier. Every upstream failure — an HTTP status or a network error — becomes a GatewayError that says
 * whose fault it is and whether another key or provider may succeed. Retries, circuit breakers and metrics all read it.
 */
import { GatewayError } from '../errors.js';

/** Statuses that never improve by trying elsewhere, unless configured otherwise. */
export const DEFAULT_NON_RETRYABLE = [400, 401, 403, 404, 409, 413, 415, 422];

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

/** Maps an upstream HTTP error status to a GatewayError. The upstream's own message is kept; it never contains our keys. */
export function classifyStatus(
  provider: string,
  status: number,
  body: unknown,
  retryAfterS: number | undefined,
  nonRetryable: ReadonlySet<number>,
): GatewayError {
  const detail = upstreamMessage(body);
  const message = `Upstream ${provider} returned ${status}${detail ? `: ${detail.slice(0, 500)}` : ''}`;
  const retryable = !nonRetryable.has(status) && (status === 408 || status === 429 || status >= 500);
  if (status === 429) {
    return new GatewayError({
      status: 429, message, type: 'rate_limit_error', code: 'upstream_rate_limited', fault: 'provider', retryable, retryAfterS,
      headers: retryAfterS !== undefined ? { 'retry-after': String(Math.ceil(retryAfterS)) } : {},
    });
  }
  if (status === 408 || status === 504) {
    return new GatewayError({ status: 504, message, type: 'timeout_error', code: 'upstream_timeout', fault: 'provider', retryable });
  }
  if (status >= 500) {
    return new GatewayError({ status: 502, message, type: 'upstream_error', code: 'upstream_error', fault: 'provider', retryable });
  }
  // Other 4xx: the upstream rejected the request itself; pass the status on so the caller sees what the provider said.
  return new GatewayError({
    status: status === 401 || status === 403 ? 502 : status,
    message: status === 401 || status === 403 ? `Upstream ${provider} rejected the gateway's credentials (${status})` : message,
    type: status === 401 || status === 403 ? 'upstream_error' : 'invalid_request_error',
    code: status === 401 || status === 403 ? 'upstream_auth_failed' : 'upstream_rejected',
    fault: 'provider',
    retryable: !nonRetryable.has(status) && status !== 400 && status !== 422,
  });
}

/** Maps a thrown network/abort error to a GatewayError. */
export function classifyNetworkError(provider: string, err: unknown, clientAborted: boolean): GatewayError {
  if (clientAborted) {
    return new GatewayError({ status: 499, message: 'Client closed the request', type: 'invalid_request_error', code: 'client_closed', fault: 'caller' });
  }
  const code = (err as { code?: string } | null)?.code ?? '';
  const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' ||
    (err as { name?: string } | null)?.name === 'TimeoutError';
  if (timeout) {
    return new GatewayError({ status: 504, message: `Upstream ${provider} timed out`, type: 'timeout_error', code: 'upstream_timeout', fault: 'provider', retryable: true, cause: err });
  }
  return new GatewayError({
    status: 502, message: `Upstream ${provider} connection failed (${code || 'network error'})`, type: 'upstream_error',
    code: 'upstream_unreachable', fault: 'provider', retryable: true, cause: err,
  });
}
