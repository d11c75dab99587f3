/**
 * The seam for an inbound protocol other than the OpenAI endpoints the internal request mirrors: an edge validates the
 * caller's body into the internal (OpenAI chat) request, and presents the pipeline's reply in the caller's protocol. Between
 * the two the request is like any other — same auth, limits, stages, accounting, logs and metrics (src/server/app.ts).
 */
import type { Caller, InboundProtocol, RequestContext } from '../pipeline/context.js';
import type { Operation, ProviderReply } from '../providers/types.js';
import type { InputLimits } from './request-body.js';
import type { SseEncoder } from './write-reply.js';

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
  present(ctx: RequestContext, reply: ProviderReply): Promise<{ reply: ProviderReply; encoder?: SseEncoder }>;
}
