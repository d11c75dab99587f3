/**
 * Inbound protocols: the wire protocol a caller spoke, and the caller's own request kept beside the internal one so an
 * upstream of the same protocol can receive it as sent (full fidelity). A neutral module: the edges, the pipeline and the
 * adapters import it.
 */

/**
 * The wire protocol a request came in on. The pipeline works on one internal (OpenAI chat) request whatever the protocol;
 * rules read this as the `protocol` variable and the edge answers in it.
 */
export type InboundProtocol = 'openai.chat' | 'openai.completions' | 'openai.embeddings' | 'openai.responses' | 'anthropic.messages';

/** The caller's request in its own protocol. */
export interface NativeRequest {
  readonly protocol: InboundProtocol;
  /** The body as the caller sent it (validated by its edge). */
  readonly body: Readonly<Record<string, unknown>>;
  /**
   * Fields of `body` the internal request does not represent, which may change the answer: the cache key includes them, so a
   * request carrying them never shares an entry with one that does not.
   */
  readonly extras: Readonly<Record<string, unknown>>;
  /**
   * Why the internal request cannot stand for `body` (a feature only an upstream of the same protocol has, e.g. a built-in
   * tool): a route that does not send `body` as is answers the caller with this 400 instead of dropping the feature.
   */
  readonly untranslatable?: Untranslatable;
}

/** A part of the caller's request that only an upstream of its own protocol can take: the 400 a translated route answers. */
export interface Untranslatable {
  readonly message: string;
  readonly param: string;
  readonly code: string;
}

/** An upstream's reply in the caller's protocol, exactly as received, for the edge to forward unchanged. */
export interface NativeReply {
  readonly protocol: InboundProtocol;
  readonly raw: Buffer;
}
