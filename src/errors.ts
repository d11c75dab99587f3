/**
 * Typed gateway errors. Every failure the gateway reports — the caller's, a policy's, a provider's or its own — is a
 * GatewayError carrying its failure class (src/llm/failure.ts), rendered at the HTTP edge in the OpenAI error envelope.
 * Retries, breakers and metrics read the class.
 */
import { actionOf, type FailureClass, type Fault } from './llm/failure.js';

export type { FailureClass, Fault } from './llm/failure.js';

export interface GatewayErrorInit {
  status: number;
  message: string;
  type: string;
  code?: string | null;
  param?: string | null;
  /** What kind of failure this is; decides what happens next (see src/llm/failure.ts). */
  failure: FailureClass;
  /** Extra reply headers (retry-after, ...). */
  headers?: Record<string, string>;
  /** For rate limits: seconds the upstream (or policy) asked to wait. */
  retryAfterS?: number;
  /** For a reply an upstream refused: the HTTP status it answered with (`status` is what the caller is told). */
  upstreamStatus?: number;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly failure: FailureClass;
  readonly headers: Record<string, string>;
  readonly retryAfterS: number | undefined;
  readonly upstreamStatus: number | undefined;

  constructor(init: GatewayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'GatewayError';
    this.status = init.status;
    this.type = init.type;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.failure = init.failure;
    this.headers = init.headers ?? {};
    this.retryAfterS = init.retryAfterS;
    this.upstreamStatus = init.upstreamStatus;
  }

  /** Who is at fault, from the failure class. */
  get fault(): Fault {
    return actionOf(this.failure).fault;
  }

  /** May another key or target succeed where this attempt failed? */
  get retryable(): boolean {
    return actionOf(this.failure).next === 'retry';
  }

  /** The OpenAI error envelope. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/**
 * A value from a request as an error message may quote it: a string as it is, anything else as its JSON, cut to `max`
 * characters. Never throws — `String()` of a parsed object can (an own `toString` member that is not a function), and a
 * refusal must not become the gateway's own failure.
 */
export function quoted(v: unknown, max = 64): string {
  let s: string;
  if (typeof v === 'string') s = v;
  else {
    try {
      s = JSON.stringify(v) ?? typeof v;
    } catch {
      s = typeof v;
    }
  }
  return s.length > max ? s.slice(0, max) : s;
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null): GatewayError =>
  new GatewayError({ status: 400, message, type: 'invalid_request_error', param, code, failure: 'caller' });

export const modelNotFound = (model: string): GatewayError =>
  new GatewayError({
    status: 404,
    message: `The model '${model}' does not exist or is not served by this gateway.`,
    type: 'invalid_request_error',
    param: 'model',
    code: 'model_not_found',
    failure: 'caller',
  });

/** No provider is configured at all: a model request says what to set rather than that the model does not exist. */
export const noProviderConfigured = (): GatewayError =>
  new GatewayError({
    status: 503,
    message: 'No upstream provider is configured. Set OPENAI_API_KEY and/or ANTHROPIC_API_KEY where the gateway runs (read when it starts '
      + 'without a config file; OPENAI_BASE_URL / ANTHROPIC_BASE_URL select another endpoint) and restart it, or list providers in its config file.',
    type: 'server_error',
    code: 'no_provider_configured',
    failure: 'gateway',
    // Retrying cannot help until the gateway is restarted with a provider; the official SDKs honour this header.
    headers: { 'x-should-retry': 'false' },
  });

export const unauthorized = (message: string): GatewayError =>
  new GatewayError({ status: 401, message, type: 'authentication_error', code: 'invalid_api_key', failure: 'caller' });

export const forbidden = (message: string, code = 'permission_denied'): GatewayError =>
  new GatewayError({ status: 403, message, type: 'permission_error', code, failure: 'policy' });

/** A failure of the gateway itself; `cause` is kept for the log, never shown to the caller. */
export const internalError = (message = 'The gateway failed to handle the request.', cause?: unknown): GatewayError =>
  new GatewayError({ status: 500, message, type: 'server_error', code: 'internal_error', failure: 'gateway', cause });

/** Anything thrown that is not a GatewayError becomes a 500 without leaking its message or stack. */
export function asGatewayError(err: unknown): GatewayError {
  return err instanceof GatewayError ? err : internalError(undefined, err);
}
