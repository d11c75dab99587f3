/**
 * OpenAI SSE events → stream parts. Chunks keep the upstream's own JSON text as `raw` so the edge forwards it unchanged.
 * `[DONE]` ends the stream cleanly; an in-band error (an `error` event, or a data object carrying `error` and no `choices`)
 * becomes an error part.
 */
import type { SseEvent } from '../sse.js';
import type { Chunk, StreamPart } from '../types.js';
import { errorPart } from './start-stream.js';

function inBandError(value: unknown): StreamPart {
  const err = (value as { error?: unknown } | null)?.error ?? value;
  if (typeof err === 'string') return errorPart(err, 'upstream_error', null);
  const e = (err ?? {}) as { message?: unknown; type?: unknown; code?: unknown };
  return errorPart(
    typeof e.message === 'string' ? e.message : 'The upstream reported an error mid-stream',
    typeof e.type === 'string' && e.type !== '' ? e.type : 'upstream_error',
    e.code === undefined || e.code === null ? null : String(e.code),
  );
}

/** `hideUsage`: the usage-only chunk was requested by the gateway, not the client, and is marked hidden. */
export async function* openaiStreamParts(events: AsyncIterable<SseEvent>, hideUsage = false): AsyncGenerator<StreamPart> {
  for await (const ev of events) {
    const data = ev.data;
    if (data === '[DONE]') {
      yield { type: 'done' };
      return;
    }
    let chunk: Chunk;
    try {
      chunk = JSON.parse(data) as Chunk;
    } catch {
      yield ev.event === 'error' ? errorPart(data.slice(0, 500), 'upstream_error', null)
        : errorPart('The upstream sent a chunk that is not JSON', 'upstream_error', 'upstream_bad_chunk');
      return;
    }
    if (ev.event === 'error' || (chunk !== null && typeof chunk === 'object' && 'error' in chunk && chunk.choices === undefined)) {
      yield inBandError(chunk);
      return;
    }
    if (hideUsage && chunk.usage && (!chunk.choices || chunk.choices.length === 0)) yield { type: 'chunk', chunk, raw: data, hidden: true };
    else yield { type: 'chunk', chunk, raw: data };
  }
}
