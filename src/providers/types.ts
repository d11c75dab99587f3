/**
 * The provider interface. A provider adapter turns one OpenAI-format request into one upstream call and the upstream's answer
 * back into an OpenAI-format JSON body or typed stream parts (src/llm/parts.ts). Pipeline stages never see wire formats:
 * they see UpstreamRequest in and ProviderReply out.
 * Key selection, retries and fallbacks live outside the adapter (see ./execute.ts): an adapter is handed one key per call.
 */
import type { AbortSource } from '../pipeline/client-abort.js';
import type { StreamPart, Usage } from '../llm/parts.js';

import type { InboundProtocol, NativeReply, NativeRequest } from '../llm/protocol.js';

/** Which OpenAI endpoint a request came in on. */
export type Operation = 'chat' | 'completion' | 'embedding';

export type { StreamPart, Usage } from '../llm/parts.js';

export interface JsonReply {
  kind: 'json';
  status: number;
  /** Parsed body (OpenAI format). */
  body: Record<string, unknown>;
  /**
   * Exact bytes to send when the upstream body is already in the caller's format (OpenAI's, or a native reply an edge presents);
   * otherwise undefined and the edge serialises `body`.
   */
  raw?: Buffer;
  usage?: Usage;
  /** Request parameters the provider could not honour exactly (reported, never silently dropped). */
  warnings?: string[];
  /** The upstream's own bytes when it answered the caller's native request in the caller's protocol. */
  native?: NativeReply;
}

export interface StreamReply {
  kind: 'stream';
  status: number;
  parts: AsyncIterable<StreamPart>;
  warnings?: string[];
  /** The upstream answered the caller's native request: the parts carry its events in that protocol. */
  native?: InboundProtocol;
}

export type ProviderReply = JsonReply | StreamReply;

/** What the upstream told us about its rate limits, read from response headers. */
export interface RateLimitInfo {
  remainingRequests?: number;
  /** The request limit of the current rate-limit window, when the upstream names it. */
  limitRequests?: number;
  remainingTokens?: number;
  retryAfterS?: number;
  /**
   * The reply is of the account the caller's own header chose (`OpenAI-Organization` / `OpenAI-Project`, src/providers/failure.ts
   * `chosenAccount`), not the key's: its limits say nothing of the key, which neither rests nor changes headroom for them.
   */
  callerAccount?: true;
}

/** One call to one upstream with one key. */
export interface UpstreamRequest {
  op: Operation;
  /** The upstream's model name (for azure-openai: the model name that maps to a deployment). */
  model: string;
  /** The OpenAI-format request body as the client sent it, with `model` replaced. */
  body: Record<string, unknown>;
  /** `body`'s JSON text as the caller sent it, when `body` is the caller's body unchanged: sent as is, not serialised again. */
  bodyText?: string;
  stream: boolean;
  apiKey: string;
  /**
   * The caller's own request when no stage changed the request: an adapter of the same protocol sends it (with its model)
   * instead of translating `body`, and answers with `native` bytes beside the internal reply.
   */
  native?: NativeRequest;
  /** Headers forwarded from the client (already filtered to a safe allow-list). */
  headers: Record<string, string>;
  /**
   * Aborted when the call must stop (the client left, a stream's first-byte deadline passed). Only listened to (the
   * upstream calls: `postForJson`, `postForStream`), so no AbortSignal has to be made (src/pipeline/client-abort.ts).
   */
  abort: AbortSource;
  timeoutMs: number;
  /** Called once the upstream's response headers arrive (for rate-limit headroom). */
  onHeaders?: (info: RateLimitInfo) => void;
}

export interface ProviderAdapter {
  readonly kind: string;
  /** Operations this provider kind can serve. */
  readonly supports: ReadonlySet<Operation>;
  /** The inbound protocol whose caller requests this adapter sends as is (`UpstreamRequest.native`), when it has one. */
  readonly speaks?: InboundProtocol;
  /**
   * Performs the call. Throws a GatewayError (fault 'provider', with `retryable`) for any failure before the reply starts;
   * a streamed reply that breaks later yields a `{type:'error'}` part instead of throwing.
   */
  call(req: UpstreamRequest): Promise<ProviderReply>;
}
