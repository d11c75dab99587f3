/**
 * Failure classes: the one closed set of ways a request or an attempt can fail, and the one action each class has. Every
 * GatewayError carries its class; src/providers/failure.ts maps upstream statuses and network errors to one. The executor's
 * retries, key health and circuits, the metric labels and the error envelope all read the class — nothing re-derives it from
 * a status code.
 */

export type FailureClass =
  /** The request itself is wrong (bad field, unknown model, upstream said the request is invalid, a reply too large). */
  | 'caller'
  /**
   * The request alone is over what this key's account takes (its per-minute token limit): no wait helps, but a key of
   * another account, or another target, may take it. No verdict on the key.
   */
  | 'too_large'
  /** A gateway policy refused the request (budget, rate limit, allow-list, safety). A caller error the gateway decided. */
  | 'policy'
  /** The gateway failed on its own (a bug, an unavailable local dependency). */
  | 'gateway'
  /** The upstream refused the key (revoked, wrong, no permission). */
  | 'credential'
  /** The upstream's quota or rate limit for this key (and model: limits are per model) is exhausted (429, 402). */
  | 'rate_limited'
  /** This provider or key does not serve the model (404, 410). */
  | 'model_unavailable'
  /** The upstream failed: 5xx (504 and 408 included), a connection refused, reset or not made in time, a reply that cannot be read. */
  | 'upstream'
  /**
   * The upstream did not answer this request in time: no reply within `timeout_ms`, or no first byte of a stream within
   * `first_byte_timeout_ms`. The wait may be the request's own (a long generation, a model thinking before it writes), so
   * it counts against the key only when the key answered no attempt that began after this one.
   */
  | 'timeout'
  /** A streamed reply broke after its first byte reached the client. */
  | 'stream';

export const FAILURE_CLASSES: readonly FailureClass[] = [
  'caller', 'too_large', 'policy', 'gateway', 'credential', 'rate_limited', 'model_unavailable', 'upstream', 'timeout', 'stream',
];

/** Who is at fault: the envelope's wording and the `denial` / error metrics. */
export type Fault = 'caller' | 'policy' | 'provider' | 'gateway';

/**
 * What the failure of one attempt means:
 *  - `next`: `stop` ends the request with this error; `retry` moves on to another key of the provider (within
 *    routing.max_keys_per_target), then to the next target of the route's chain.
 *  - `health`: what the attempt does to the key's lane for the model it asked for (upstreams fail and rate-limit per model:
 *    src/providers/key-health.ts) — `none` (no verdict: its health is untouched), `failure` (counts toward its error rate
 *    and circuit), `unless_answered` (a failure, unless the lane answered — sent the first byte of — another attempt that
 *    began no earlier than this one: it takes new work, so the wait was this request's own), `cool` (unavailable until the
 *    upstream's retry-after, not an error) — or to the whole key: `disable` (the upstream refused the key, whatever the
 *    model: its credential circuit opens at once, taking every lane out; a probe after circuit.cooldown_ms tells when it
 *    works again).
 */
export interface FailureAction {
  readonly fault: Fault;
  readonly next: 'stop' | 'retry';
  readonly health: 'none' | 'failure' | 'unless_answered' | 'cool' | 'disable';
}

export const FAILURE_ACTIONS: Readonly<Record<FailureClass, FailureAction>> = Object.freeze({
  caller: { fault: 'caller', next: 'stop', health: 'none' },
  too_large: { fault: 'caller', next: 'retry', health: 'none' },
  policy: { fault: 'policy', next: 'stop', health: 'none' },
  gateway: { fault: 'gateway', next: 'stop', health: 'none' },
  credential: { fault: 'provider', next: 'retry', health: 'disable' },
  rate_limited: { fault: 'provider', next: 'retry', health: 'cool' },
  model_unavailable: { fault: 'provider', next: 'retry', health: 'none' },
  upstream: { fault: 'provider', next: 'retry', health: 'failure' },
  timeout: { fault: 'provider', next: 'retry', health: 'unless_answered' },
  stream: { fault: 'provider', next: 'stop', health: 'failure' },
});

export const actionOf = (c: FailureClass): FailureAction => FAILURE_ACTIONS[c];
