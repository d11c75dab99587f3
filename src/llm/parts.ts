/**
 * The one typed representation of a streamed reply. Each outbound adapter turns its upstream's wire events into these parts
 * once; pipeline stages read and (rarely) replace parts, never wire JSON; each inbound edge serialises them into its own
 * protocol (see src/edges/). Shape after vercel/ai's LanguageModelV2StreamPart, with a choice index because OpenAI streams
 * may carry several choices.
 *
 * Pass-through: when the upstream spoke the same wire format as the edge, every part made from one upstream event carries the
 * same `raw` (the event's own data text and how many parts it produced). An edge that sees all of an event's parts arrive
 * unchanged writes the upstream's text instead of serialising; a stage that changes a part makes a new part without `raw`, and
 * the edge then serialises that event's parts.
 */
import type { FailureClass } from './failure.js';

/** Token usage in OpenAI's shape (the gateway's accounting unit). */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Prompt tokens served from the provider's prompt cache (included in prompt_tokens). */
  prompt_tokens_details?: { cached_tokens?: number };
  /** Reasoning tokens (included in completion_tokens). */
  completion_tokens_details?: { reasoning_tokens?: number };
}

/** Wire formats whose events a part can carry verbatim. */
export type WireFormat = 'openai' | 'anthropic' | 'responses';

/** One upstream SSE event, kept verbatim; shared by the `parts` parts it produced. */
export interface WireEvent {
  readonly format: WireFormat;
  /** The event's data text (for OpenAI: the chunk's JSON). */
  readonly data: string;
  /** How many parts this event produced (at least 1). */
  readonly parts: number;
  /** The SSE event name, for protocols that name their events (Anthropic, Responses). */
  readonly event?: string;
}

/** A failure after the stream started, in the shape of the caller's error envelope. */
export interface StreamFailure {
  message: string;
  type: string;
  code: string | null;
  /**
   * What the failure says about the key, read once by the adapter that started the stream (src/providers/openai/
   * start-stream.ts) from the upstream's words and the attempt's own headers (a rate limit of the account the caller's
   * header chose is the caller's). Absent on parts no adapter made.
   */
  class?: FailureClass;
}

interface Carried {
  /** The upstream event this part was made from, when it spoke a wire format an edge can forward. */
  raw?: WireEvent;
}

export type StreamPart =
  /** Reply identity: sent before the first content, and again only if the upstream changes it. */
  | ({ type: 'metadata'; id: string; model: string; created: number; systemFingerprint?: string } & Carried)
  /** Answer text. `logprobs`: the upstream's token log-probabilities for this text, in OpenAI's shape. */
  | ({ type: 'text-delta'; choice: number; text: string; logprobs?: Record<string, unknown> } & Carried)
  | ({ type: 'reasoning-delta'; choice: number; text: string } & Carried)
  /** The model declined: its refusal text. */
  | ({ type: 'refusal-delta'; choice: number; text: string } & Carried)
  /** A tool call begins; `index` numbers the calls of one choice from 0. */
  | ({ type: 'tool-call-start'; choice: number; index: number; id: string; name: string } & Carried)
  | ({ type: 'tool-call-delta'; choice: number; index: number; argsDelta: string } & Carried)
  | ({ type: 'tool-call-end'; choice: number; index: number } & Carried)
  /** A choice finished, with OpenAI's finish reason vocabulary (stop, length, tool_calls, content_filter). */
  | ({ type: 'finish'; choice: number; reason: string } & Carried)
  /**
   * Token usage of the whole reply. `hidden`: the gateway asked the upstream for it on its own (for accounting), so the edge
   * does not send it.
   */
  | ({ type: 'usage'; usage: Usage; hidden?: boolean } & Carried)
  /** An upstream event that carries nothing typed (a role-only delta, a field the gateway does not model): forwarded only. */
  | ({ type: 'raw' } & Carried)
  /** The stream ended cleanly: the upstream sent its terminator. */
  | { type: 'done' }
  /** The stream broke after it started. The edge writes its protocol's error event and closes; never a clean finish. */
  | { type: 'error'; failure: StreamFailure };

/**
 * Choice and tool-call indexes are whole numbers below this (OpenAI allows at most 128 choices): an adapter refuses an
 * upstream event naming any other, so no stage sizes anything by an index an upstream made up.
 */
export const MAX_PART_INDEX = 1024;

export const isPartIndex = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < MAX_PART_INDEX;

export type PartOf<T extends StreamPart['type']> = Extract<StreamPart, { type: T }>;

/** The same part without its upstream text: what a stage yields when it changed the part's content. */
export function changed<P extends StreamPart>(part: P): P {
  if (!('raw' in part) || part.raw === undefined) return part;
  const { raw: _raw, ...rest } = part as P & Carried;
  return rest as P;
}
