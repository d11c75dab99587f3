/**
 * The seam every inbound protocol plugs into. An inbound edge owns one client-facing wire protocol: it parses the caller's
 * request into the internal request (today the OpenAI-format body of RequestContext, see src/pipeline/build-context.ts) and
 * serialises what the pipeline returns — typed stream parts (src/llm/parts.ts), JSON replies and errors — back into that
 * protocol. The HTTP writer (src/server/write-reply.ts) handles transport only: headers, backpressure, shutdown.
 */
import type { StreamFailure, StreamPart } from '../llm/parts.js';

/**
 * Turns one reply's parts into the protocol's stream bytes, part by part. Stateful (one per reply): it remembers the reply's
 * identity and holds an upstream event's parts until it knows whether they arrived unchanged (then it forwards the upstream's
 * own bytes) or must be serialised.
 */
export interface StreamEncoder {
  /** The text to write for this part now ('' when nothing yet). A `done` or `error` part ends the stream. */
  encode(part: StreamPart): string;
  /** The text to write when the gateway itself ends the stream with a failure (shutdown, a source that stopped short). */
  fail(failure: StreamFailure): string;
}
