/**
 * Stream parts in tests: OpenAI chunks read into parts by the adapter's own reader, and parts written back as the OpenAI
 * edge serialises them (so assertions read what a client receives).
 */
import { OpenAIStreamEncoder, type OpenAIStreamKind } from '../../src/edges/openai-chat/encode-stream.js';
import type { StreamPart } from '../../src/llm/parts.js';
import type { Chunk } from '../../src/providers/openai/openai-api.js';
import { ChunkReader } from '../../src/providers/openai/openai-stream.js';

/** The parts an OpenAI upstream's chunks make (without their raw text), in order. */
export function partsOfChunks(chunks: readonly Chunk[], hideUsage = false): StreamPart[] {
  const reader = new ChunkReader();
  return chunks.flatMap((c) => reader.read(c, hideUsage));
}

/** The SSE text the OpenAI edge writes for these parts. */
export function sseOf(parts: readonly StreamPart[], kind: OpenAIStreamKind = 'chat'): string {
  const enc = new OpenAIStreamEncoder(kind);
  let out = '';
  for (const p of parts) out += enc.encode(p);
  return out;
}

/** The chunks a client receives for these parts ([DONE] and error events left out). */
export function chunksOf(parts: readonly StreamPart[], kind: OpenAIStreamKind = 'chat'): Chunk[] {
  return sseOf(parts, kind).split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as Chunk)
    .filter((c) => c.error === undefined);
}
