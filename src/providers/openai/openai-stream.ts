/**
 * OpenAI SSE events → stream parts. Chunks keep the upstream's own JSON text as `raw` so the edge forwards it unchanged.
 * `[DONE]` ends the stream cleanly; an in-band error (an `error` event, or a data object carrying `error` and no `choices`)
 * becomes an error part.
 */
import type { Redact } from '../redact.js';
import type { SseEvent } from '../sse.js';
import type { Chunk, StreamPart } from '../types.js';
import { errorPart } from './start-stream.js';

/** An in-band error event; its text is the upstream's, so it is sanitised, and type and code are kept only when short words. */
function inBandError(value: unknown, redact: Redact): StreamPart {
  const err = (value as { error?: unknown } | null)?.error ?? value;
  if (typeof err === 'string') return errorPart(redact(err), 'upstream_error', null);
  const e = (err ?? {}) as { message?: unknown; type?: unknown; code?: unknown };
  return errorPart(
    typeof e.message === 'string' ? redact(e.message) : 'The upstream reported an error mid-stream',
    typeof e.type === 'string' && WORD.test(e.type) ? e.type : 'upstream_error',
    (typeof e.code === 'string' || typeof e.code === 'number') && WORD.test(String(e.code)) ? String(e.code) : null,
  );
}

const WORD = /^[A-Za-z0-9_.-]{1,64}$/;

/** `hideUsage`: the usage-only chunk was requested by the gateway, not the client, and is marked hidden. */
export async function* openaiStreamParts(events: AsyncIterable<SseEvent>, hideUsage: boolean, redact: Redact): AsyncGenerator<StreamPart> {
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
      yield ev.event === 'error' ? errorPart(redact(data), 'upstream_error', null)
        : errorPart('The upstream sent a chunk that is not JSON', 'upstream_error', 'upstream_bad_chunk');
      return;
    }
    if (chunk === null || typeof chunk !== 'object' || Array.isArray(chunk)) {
      yield errorPart('The upstream sent a chunk that is not a JSON object', 'upstream_error', 'upstream_bad_chunk');
      return;
    }
    if (ev.event === 'error' || ('error' in chunk && chunk.choices === undefined)) {
      yield inBandError(chunk, redact);
      return;
    }
    if (hideUsage && chunk.usage && (!chunk.choices || chunk.choices.length === 0)) yield { type: 'chunk', chunk, raw: data, hidden: true };
    else yield { type: 'chunk', chunk, raw: data };
  }
}
