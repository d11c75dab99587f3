/**
 * Stream buffering for cascades: a tier's stream is consumed whole (so its answer can be checked before the first byte
 * reaches the client), then the passing tier's parts are replayed unchanged — each keeps its upstream `raw` text, so
 * nothing is serialised again.
 */
import type { StreamPart, StreamReply } from '../providers/types.js';
import { StreamAnswer } from './answer.js';
import type { Answer } from './types.js';

export interface BufferedStream {
  kind: 'buffered';
  status: number;
  parts: StreamPart[];
  answer: Answer;
  /** The stream ended with an error part (it broke after it started). */
  error: string | undefined;
  warnings: string[] | undefined;
}

export async function bufferStream(reply: StreamReply): Promise<BufferedStream> {
  const parts: StreamPart[] = [];
  const acc = new StreamAnswer();
  let error: string | undefined;
  for await (const p of reply.parts) {
    parts.push(p);
    acc.push(p);
    if (p.type === 'error') error = p.failure.message;
  }
  return { kind: 'buffered', status: reply.status, parts, answer: acc.answer(), error, warnings: reply.warnings };
}

async function* fromArray(parts: readonly StreamPart[], dropUsage: boolean): AsyncGenerator<StreamPart> {
  for (const p of parts) if (!dropUsage || p.type !== 'usage') yield p;
}

/** Replays buffered parts as a stream reply; `includeUsage` false drops the usage the gateway asked for itself
 * (sent only to clients that asked for `stream_options.include_usage`). */
export function replay(b: BufferedStream, includeUsage: boolean): StreamReply {
  const out: StreamReply = { kind: 'stream', status: b.status, parts: fromArray(b.parts, !includeUsage) };
  if (b.warnings) out.warnings = b.warnings;
  return out;
}
