/**
 * The seam every inbound protocol plugs into. An inbound edge owns one client-facing wire protocol: it parses the caller's
 * request into the internal request (today the OpenAI-format body of RequestContext, see src/pipeline/build-context.ts) and
 * serialises what the pipeline returns — typed stream parts (src/llm/parts.ts), JSON replies and errors — back into that
 * protocol. The HTTP writer (src/server/write-reply.ts) handles transport only: headers, backpressure, shutdown.
 */
import type { StreamFailure, StreamPart } from '../llm/parts.js';
import type { Caller, InboundProtocol, RequestContext } from '../pipeline/context.js';
import type { Operation, ProviderReply } from '../providers/types.js';
import type { InputLimits } from '../server/request-body.js';

/**
 * Turns one reply's parts into the protocol's stream bytes, part by part. Stateful (one per reply): it remembers the reply's
 * identity and holds an upstream event's parts until it knows whether they arrived unchanged (then it forwards the upstream's
 * own bytes) or must be serialised.
 */
export interface StreamEncoder {
  /**
   * The text to write for this part now ('' when nothing yet). A `done` or `error` part ends the stream. A promise only where
   * the protocol must finish work before its last event (the Responses edge stores the response before response.completed).
   */
  encode(part: StreamPart): string | Promise<string>;
  /** The text to write when the gateway itself ends the stream with a failure (shutdown, a source that stopped short). */
  fail(failure: StreamFailure): string;
}

/**
 * A protocol served on its own POST route (e.g. /v1/responses) through the shared request path (src/server/app.ts: the same
 * body reading, limits, auth, stages, accounting, logs and metrics as the OpenAI routes).
 */
export interface ProtocolEdge {
  readonly protocol: InboundProtocol;
  /** The internal operation its requests run as. */
  readonly op: Operation;
  /** Validates the caller's body (a GatewayError naming the bad field) and returns the internal request. */
  accept(body: unknown, caller: Caller, limits: InputLimits): Promise<AcceptedRequest>;
}

export interface AcceptedRequest {
  /** The internal request body (validated again as such by buildContext). */
  body: Record<string, unknown>;
  /** Parameters accepted but not honoured (reported in x-switchyard-warnings). */
  warnings: readonly string[];
  /** The pipeline's reply in the caller's protocol: a JSON body, or the stream with its protocol's encoder. */
  present(ctx: RequestContext, reply: ProviderReply): Promise<{ reply: ProviderReply; encoder?: StreamEncoder }>;
}
