/**
 * Stream buffering for cascades: a tier's stream is consumed whole (so its answer can be checked before the first byte
 * reaches the client), then the passing tier's parts are replayed unchanged — each keeps its upstream `raw` text, so
 * nothing is serialised again.
 */
import { replyTooLarge, upstreamPolicy } from '../providers/failure.js';
import { MAX_REPLY_BODY } from '../providers/http.js';
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

/** Rough characters one part holds: its share of the upstream event it came from, else its own text; a small object else. */
function sizeOf(p: StreamPart): number {
  if ('raw' in p && p.raw !== undefined) return p.raw.data.length / p.raw.parts;
  switch (p.type) {
    case 'text-delta': case 'reasoning-delta': case 'refusal-delta': return p.text.length;
    case 'tool-call-delta': return p.argsDelta.length;
    default: return 64;
  }
}

/**
 * Consumes a tier's stream whole. One larger than the largest JSON reply the gateway accepts (MAX_REPLY_BODY) is refused as
 * such a reply is (the caller's `reply_too_large`), its upstream call ended, rather than held in memory without bound.
 */
export async function bufferStream(reply: StreamReply, provider: string): Promise<BufferedStream> {
  const parts: StreamPart[] = [];
  const acc = new StreamAnswer();
  let error: string | undefined;
  let size = 0;
  for await (const p of reply.parts) {
    size += sizeOf(p);
    if (size > MAX_REPLY_BODY) throw replyTooLarge(upstreamPolicy(provider), MAX_REPLY_BODY);
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
