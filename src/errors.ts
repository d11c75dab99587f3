/**
 * Typed gateway errors. Every failure the gateway reports — the caller's, a policy's, a provider's or its own — is a
 * GatewayError, rendered at the HTTP edge in the OpenAI error envelope. Retry, breaker and metric code read the same facts.
 */

/** Who is at fault: decides retry behaviour and metric labels. */
export type Fault = 'caller' | 'policy' | 'provider' | 'gateway';

export interface GatewayErrorInit {
  status: number;
  message: string;
  type: string;
  code?: string | null;
  param?: string | null;
  fault: Fault;
  /** Extra reply headers (retry-after, ...). */
  headers?: Record<string, string>;
  /** For provider faults: may another key or provider succeed? */
  retryable?: boolean;
  /** For provider faults: seconds the upstream asked us to wait. */
  retryAfterS?: number;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly fault: Fault;
  readonly headers: Record<string, string>;
  readonly retryable: boolean;
  readonly retryAfterS: number | undefined;

  constructor(init: GatewayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'GatewayError';
    this.status = init.status;
    this.type = init.type;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.fault = init.fault;
    this.headers = init.headers ?? {};
    this.retryable = init.retryable ?? false;
    this.retryAfterS = init.retryAfterS;
  }

  /** The OpenAI error envelope. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null): GatewayError =>
  new GatewayError({ status: 400, message, type: 'invalid_request_error', param, code, fault: 'caller' });

export const modelNotFound = (model: string): GatewayError =>
  new GatewayError({
    status: 404,
    message: `The model '${model}' does not exist or is not served by this gateway.`,
    type: 'invalid_request_error',
    param: 'model',
    code: 'model_not_found',
    fault: 'caller',
  });

/** No provider is configured at all: a model request says what to set rather than that the model does not exist. */
export const noProviderConfigured = (): GatewayError =>
  new GatewayError({
    status: 503,
    message: 'No upstream provider is configured. Set OPENAI_API_KEY and/or ANTHROPIC_API_KEY where the gateway runs (read when it starts '
      + 'without a config file; OPENAI_BASE_URL / ANTHROPIC_BASE_URL select another endpoint) and restart it, or list providers in its config file.',
    type: 'server_error',
    code: 'no_provider_configured',
    fault: 'gateway',
    // Retrying cannot help until the gateway is restarted with a provider; the official SDKs honour this header.
    headers: { 'x-should-retry': 'false' },
  });

export const unauthorized = (message: string): GatewayError =>
  new GatewayError({ status: 401, message, type: 'authentication_error', code: 'invalid_api_key', fault: 'caller' });

export const forbidden = (message: string, code = 'permission_denied'): GatewayError =>
  new GatewayError({ status: 403, message, type: 'permission_error', code, fault: 'policy' });

export const internalError = (message = 'The gateway failed to handle the request.'): GatewayError =>
  new GatewayError({ status: 500, message, type: 'server_error', code: 'internal_error', fault: 'gateway' });

/** Anything thrown that is not a GatewayError becomes a 500 without leaking its message or stack. */
export function asGatewayError(err: unknown): GatewayError {
  return err instanceof GatewayError ? err : internalError();
}
