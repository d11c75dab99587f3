/**
 * The seam every inbound protocol plugs into. An inbound edge owns one client-facing wire protocol: it parses the caller's
 * request into the internal request (today the OpenAI-format body of RequestContext, see src/pipeline/build-context.ts) and
 * serialises what the pipeline returns — typed stream parts (src/llm/parts.ts), JSON replies and errors — back into that
 * protocol. The HTTP writer (src/server/write-reply.ts) handles transport only: headers, backpressure, shutdown.
 */
import type { GatewayError } from '../errors.js';
import type { StreamFailure, StreamPart } from '../llm/parts.js';
import type { NativeRequest } from '../llm/protocol.js';
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

/** A refusal as one protocol writes it: the status it answers with and the envelope's JSON. */
export interface ErrorReply {
  status: number;
  body: string;
}

/** Renders a GatewayError in a protocol's error envelope (`requestId` is the request's x-request-id, when known). Never throws. */
export type ErrorEnvelope = (err: GatewayError, requestId: string | undefined) => ErrorReply;

/**
 * A protocol served on its own POST route (e.g. /v1/responses, /v1/messages) through the shared request path
 * (`serveProxy` in src/server/app.ts: the same body reading, limits, auth, stages, accounting, logs and metrics as the OpenAI
 * routes). What differs between protocols is declared here; the optional members default to OpenAI's behaviour.
 */
export interface ProtocolEdge {
  readonly protocol: InboundProtocol;
  /** The internal operation its requests run as. */
  readonly op: Operation;
  /**
   * The caller's credential as an `authorization` value, read from the request's lower-case headers (e.g. Anthropic's
   * `x-api-key`). Default: the `authorization` header.
   */
  credential?(headers: Readonly<Record<string, string>>): string | undefined;
  /** The protocol's error envelope and statuses for every refusal. Default: OpenAI's (src/server/write-reply.ts). */
  readonly errorEnvelope?: ErrorEnvelope;
  /** A header that carries the request id beside x-request-id on every reply (e.g. Anthropic's `request-id`). */
  readonly requestIdHeader?: string;
  /** Validates the caller's body (a GatewayError naming the bad field) and returns the internal request. */
  accept(body: unknown, caller: Caller, limits: InputLimits): Promise<AcceptedRequest>;
}

export interface AcceptedRequest {
  /** The internal request body (validated again as such by buildContext). */
  body: Record<string, unknown>;
  /** Parameters accepted but not honoured (reported in x-switchyard-warnings). */
  warnings: readonly string[];
  /** The caller's own request, sent as is to an upstream that speaks its protocol (becomes `ctx.native`). */
  native?: NativeRequest;
  /**
   * The pipeline's reply in the caller's protocol: a JSON body (or the upstream's own `raw` bytes), or the stream with its
   * protocol's encoder. May add to `ctx.warnings` (the reply headers are read after it).
   */
  present(ctx: RequestContext, reply: ProviderReply): Promise<{ reply: ProviderReply; encoder?: StreamEncoder }>;
}
