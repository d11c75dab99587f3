/**
 * Anthropic Messages SSE events → stream parts. message_start gives the reply's identity, text deltas become text deltas,
 * thinking deltas reasoning deltas, tool_use blocks and their input_json_delta events tool-call start / delta / end,
 * message_delta carries the finish reason and output usage, message_stop ends the stream (after the usage part, hidden unless
 * the client asked for usage), an `error` event becomes an error part. Unknown events are skipped.
 */
import type { StreamPart, WireEvent } from '../../llm/parts.js';
import type { Redact } from '../redact.js';
import type { SseEvent } from '../sse.js';
import { errorPart } from '../openai/start-stream.js';
import type { AnthropicUsage } from './anthropic-api.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';
import { mapAnthropicUsage } from './map-anthropic-usage.js';

type Obj = Record<string, unknown>;

/**
 * `keepRaw` (the caller's own Messages request was sent, see src/llm/protocol.ts): every part made from an event carries the
 * event verbatim, and an event that makes no typed part (ping, a text block's start or stop, a signature, a block kind the
 * gateway does not model) travels as a `raw` part, so the Messages edge can forward the stream byte for byte. An upstream
 * `error` event is never forwarded verbatim: its message is redacted first.
 */
export async function* anthropicStreamParts(
  events: AsyncIterable<SseEvent>, includeUsage: boolean, fallbackModel: string, redact: Redact, keepRaw = false,
): AsyncGenerator<StreamPart> {
  let id = '';
  let model = fallbackModel;
  const created = Math.floor(Date.now() / 1000);
  const usage: AnthropicUsage = {};
  const toolIndexByBlock = new Map<number, number>();

  function* partsOf(ev: SseEvent): Generator<StreamPart> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(ev.data);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      yield errorPart('The upstream sent an event that is not a JSON object', 'upstream_error', 'upstream_bad_chunk');
      return;
    }
    const data = parsed as Obj;
    const type = ev.event ?? (data.type as string | undefined);
    switch (type) {
      case 'message_start': {
        const message = (data.message ?? {}) as Obj;
        if (typeof message.id === 'string') id = message.id;
        if (typeof message.model === 'string') model = message.model;
        Object.assign(usage, message.usage as AnthropicUsage | undefined);
        yield { type: 'metadata', id, model, created };
        yield { type: 'text-delta', choice: 0, text: '' };
        break;
      }
      case 'content_block_start': {
        const block = (data.content_block ?? {}) as Obj;
        const index = Number(data.index);
        if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') yield { type: 'text-delta', choice: 0, text: block.text };
        else if (block.type === 'tool_use') {
          const toolIndex = toolIndexByBlock.size;
          toolIndexByBlock.set(index, toolIndex);
          const callId = typeof block.id === 'string' ? block.id : '';
          yield { type: 'tool-call-start', choice: 0, index: toolIndex, id: callId, name: typeof block.name === 'string' ? block.name : '' };
        }
        break;
      }
      case 'content_block_delta': {
        const delta = (data.delta ?? {}) as Obj;
        if (delta.type === 'text_delta' && typeof delta.text === 'string') yield { type: 'text-delta', choice: 0, text: delta.text };
        else if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string') yield { type: 'reasoning-delta', choice: 0, text: delta.thinking };
        else if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && delta.partial_json !== '') {
          const toolIndex = toolIndexByBlock.get(Number(data.index));
          if (toolIndex !== undefined) yield { type: 'tool-call-delta', choice: 0, index: toolIndex, argsDelta: delta.partial_json };
        }
        break;
      }
      case 'content_block_stop': {
        const toolIndex = toolIndexByBlock.get(Number(data.index));
        if (toolIndex !== undefined) yield { type: 'tool-call-end', choice: 0, index: toolIndex };
        break;
      }
      case 'message_delta': {
        Object.assign(usage, data.usage as AnthropicUsage | undefined);
        const finish = mapAnthropicStopReason(((data.delta ?? {}) as Obj).stop_reason as string | null | undefined);
        if (finish !== null) yield { type: 'finish', choice: 0, reason: finish };
        break;
      }
      case 'message_stop':
        // Always carried for accounting; the edge sends it only when the client asked for usage.
        yield includeUsage ? { type: 'usage', usage: mapAnthropicUsage(usage) } : { type: 'usage', usage: mapAnthropicUsage(usage), hidden: true };
        yield { type: 'done' };
        return;
      case 'error': {
        const err = (data.error ?? {}) as Obj;
        const errType = typeof err.type === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(err.type) ? err.type : 'upstream_error';
        yield errorPart(typeof err.message === 'string' ? redact(err.message) : 'The upstream reported an error mid-stream', errType, errType);
        return;
      }
      default:
        break; // ping and event kinds added later
    }
  }

  for await (const ev of events) {
    const out = [...partsOf(ev)];
    const last = out.at(-1);
    const ends = last?.type === 'done' || last?.type === 'error';
    if (keepRaw && last?.type !== 'error') {
      const carrying = ends ? out.length - 1 : out.length;
      const raw: WireEvent = { format: 'anthropic', data: ev.data, parts: Math.max(1, carrying), event: ev.event ?? eventType(ev.data) };
      if (carrying === 0) yield { type: 'raw', raw };
      for (let i = 0; i < carrying; i++) yield { ...out[i], raw } as StreamPart;
      if (ends) yield out[out.length - 1];
    } else {
      yield* out;
    }
    if (ends) return;
  }
}

/** The `type` of an event's data (Anthropic names each event after it), when the upstream left the event line out. */
function eventType(data: string): string | undefined {
  try {
    const t = (JSON.parse(data) as Obj).type;
    return typeof t === 'string' ? t : undefined;
  } catch {
    return undefined;
  }
}
