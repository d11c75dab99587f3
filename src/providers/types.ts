/**
 * The provider interface. A provider adapter turns one OpenAI-format request into one upstream call and the upstream's answer
 * back into OpenAI format. Pipeline stages never see wire formats: they see UpstreamRequest in and ProviderReply out.
 * Key selection, retries and fallbacks live outside the adapter (see ./execute.ts): an adapter is handed one key per call.
 */

import type { NativeReply, NativeRequest } from '../llm/protocol.js';

/** Which OpenAI endpoint a request came in on. */
export type Operation = 'chat' | 'completion' | 'embedding';

/** Token usage in OpenAI's shape. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** One OpenAI chat.completion.chunk or text_completion chunk, parsed. */
export type Chunk = Record<string, unknown> & {
  choices?: Array<{ index?: number; delta?: Record<string, unknown>; text?: string; finish_reason?: string | null }>;
  usage?: Usage | null;
};

/**
 * What flows through the pipeline for a streamed reply. SSE text is produced only at the HTTP edge.
 * `raw` carries the upstream's own JSON text of a chunk when it is already in OpenAI format, so the edge can forward it
 * without serialising again.
 */
export type StreamPart =
  /** `hidden`: carried for accounting (a usage chunk the gateway asked for on its own); the edge does not send it. */
  | { type: 'chunk'; chunk: Chunk; raw?: string; hidden?: boolean }
  /** The stream ended cleanly: the upstream sent its terminator ([DONE] or message_stop). */
  | { type: 'done' }
  /** The stream broke after it started. The edge writes an SSE error event and closes; never a clean finish. */
  | { type: 'error'; error: { message: string; type: string; code: string | null } };

export interface JsonReply {
  kind: 'json';
  status: number;
  /** Parsed body (OpenAI format). */
  body: Record<string, unknown>;
  /** Exact bytes to send when the upstream body is already OpenAI format; otherwise undefined and the edge serialises `body`. */
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
}

export type ProviderReply = JsonReply | StreamReply;

/** What the upstream told us about its rate limits, read from response headers. */
export interface RateLimitInfo {
  remainingRequests?: number;
  remainingTokens?: number;
  retryAfterS?: number;
}

/** One call to one upstream with one key. */
export interface UpstreamRequest {
  op: Operation;
  /** The upstream's model name (for azure-openai: the model name that maps to a deployment). */
  model: string;
  /** The OpenAI-format request body as the client sent it, with `model` replaced. */
  body: Record<string, unknown>;
  stream: boolean;
  apiKey: string;
  /**
   * The caller's own request when no stage changed the request: an adapter of the same protocol sends it (with its model)
   * instead of translating `body`, and answers with `native` bytes beside the internal reply.
   */
  native?: NativeRequest;
  /** Headers forwarded from the client (already filtered to a safe allow-list). */
  headers: Record<string, string>;
  signal: AbortSignal;
  timeoutMs: number;
  /** Called once the upstream's response headers arrive (for rate-limit headroom). */
  onHeaders?: (info: RateLimitInfo) => void;
}

export interface ProviderAdapter {
  readonly kind: string;
  /** Operations this provider kind can serve. */
  readonly supports: ReadonlySet<Operation>;
  /**
   * Performs the call. Throws a GatewayError (fault 'provider', with `retryable`) for any failure before the reply starts;
   * a streamed reply that breaks later yields a `{type:'error'}` part instead of throwing.
   */
  call(req: UpstreamRequest): Promise<ProviderReply>;
}
