/**
 * The Anthropic error envelope: `{"type":"error","error":{"type":...,"message":...}}` with Anthropic's statuses. Every
 * GatewayError — the caller's, a policy's, an upstream's or the gateway's own — is rendered here for callers of the Messages
 * API; the failure class and retry headers are kept.
 */
import { asGatewayError, invalidRequest, type GatewayError } from '../../errors.js';
import type { ErrorEnvelope } from '../types.js';

/** Anthropic's error types by status (https://docs.anthropic.com/en/api/errors). */
const TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export interface AnthropicErrorReply {
  status: number;
  body: { type: 'error'; error: { type: string; message: string }; request_id?: string };
}

/**
 * The status and envelope for an error. 503 (no healthy upstream, an overloaded or unconfigured gateway) is Anthropic's 529
 * overloaded_error, which its SDKs retry; other statuses keep their value, with the type Anthropic uses for that status (or
 * the nearest: invalid_request_error below 500, api_error above).
 */
export function anthropicError(err: unknown, requestId?: string): AnthropicErrorReply {
  const gerr: GatewayError = asGatewayError(err);
  const status = gerr.status === 503 ? 529 : gerr.status;
  const type = TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { status, body: { type: 'error', error: { type, message: gerr.message }, ...(requestId ? { request_id: requestId } : {}) } };
}

/** The Messages edge's error envelope (src/edges/types.ts), as the shared writer sends it. */
export const anthropicEnvelope: ErrorEnvelope = (err, requestId) => {
  const reply = anthropicError(err, requestId);
  return { status: reply.status, body: JSON.stringify(reply.body) };
};

/** An in-stream `error` event's data. */
export function anthropicErrorEvent(error: { message: string; type: string; code: string | null }): { type: 'error'; error: { type: string; message: string } } {
  const type = error.type === 'overloaded_error' || error.code === 'shutting_down' ? 'overloaded_error' : 'api_error';
  return { type: 'error', error: { type, message: error.message } };
}

/** A 400 in Anthropic's style: the field path, a colon, what is wrong. */
export const badField = (path: string, message: string): GatewayError => invalidRequest(`${path}: ${message}`, path, 'invalid_request');
