/**
 * OpenAI's streaming wire format: one chat.completion.chunk or text_completion chunk, as parsed from an SSE event. Read by the
 * OpenAI adapter (src/providers/openai/openai-stream.ts) and written by the OpenAI inbound edge (src/edges/openai-chat/).
 */
import type { Usage } from '../../llm/parts.js';

export interface ChunkToolCall {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

export interface ChunkDelta {
  role?: string;
  content?: string | null;
  refusal?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  tool_calls?: ChunkToolCall[];
}

export interface ChunkChoice {
  index?: number;
  delta?: ChunkDelta;
  text?: string;
  logprobs?: Record<string, unknown> | null;
  finish_reason?: string | null;
}

export interface Chunk {
  id?: string;
  object?: string;
  created?: number;
  model?: string;
  system_fingerprint?: string;
  choices?: ChunkChoice[];
  usage?: Usage | null;
  error?: unknown;
}
