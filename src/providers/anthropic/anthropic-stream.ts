/**
 * Anthropic Messages SSE events → OpenAI chat.completion.chunk parts. Text deltas become content deltas, tool_use blocks
 * and their input_json_delta events become tool_call deltas, message_delta carries the finish reason and output usage,
 * message_stop ends the stream (after a usage chunk when the client asked for one), an `error` event becomes an error part.
 * Thinking blocks and unknown events are skipped.
 */
import type { Redact } from '../redact.js';
import type { SseEvent } from '../sse.js';
import type { Chunk, StreamPart } from '../types.js';
import { errorPart } from '../openai/start-stream.js';
import type { AnthropicUsage } from './anthropic-api.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';
import { mapAnthropicUsage } from './map-anthropic-usage.js';

type Obj = Record<string, unknown>;

export async function* anthropicStreamParts(events: AsyncIterable<SseEvent>, includeUsage: boolean, fallbackModel: string, redact: Redact): AsyncGenerator<StreamPart> {
  let id = '';
  let model = fallbackModel;
  const created = Math.floor(Date.now() / 1000);
  const usage: AnthropicUsage = {};
  const toolIndexByBlock = new Map<number, number>();

  const chunk = (delta: Obj, finish: string | null = null): StreamPart => ({
    type: 'chunk',
    chunk: { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] } as unknown as Chunk,
  });

  for await (const ev of events) {
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
        yield chunk({ role: 'assistant', content: '' });
        break;
      }
      case 'content_block_start': {
        const block = (data.content_block ?? {}) as Obj;
        const index = Number(data.index);
        if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') yield chunk({ content: block.text });
        else if (block.type === 'tool_use') {
          const toolIndex = toolIndexByBlock.size;
          toolIndexByBlock.set(index, toolIndex);
          yield chunk({ tool_calls: [{ index: toolIndex, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] });
        }
        break;
      }
      case 'content_block_delta': {
        const delta = (data.delta ?? {}) as Obj;
        if (delta.type === 'text_delta' && typeof delta.text === 'string') yield chunk({ content: delta.text });
        else if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && delta.partial_json !== '') {
          const toolIndex = toolIndexByBlock.get(Number(data.index));
          if (toolIndex !== undefined) yield chunk({ tool_calls: [{ index: toolIndex, function: { arguments: delta.partial_json } }] });
        }
        break;
      }
      case 'message_delta': {
        Object.assign(usage, data.usage as AnthropicUsage | undefined);
        const finish = mapAnthropicStopReason(((data.delta ?? {}) as Obj).stop_reason as string | null | undefined);
        if (finish !== null) yield chunk({}, finish);
        break;
      }
      case 'message_stop':
        // Always carried for accounting; the edge sends it only when the client asked for usage.
        yield { type: 'chunk', chunk: { id, object: 'chat.completion.chunk', created, model, choices: [], usage: mapAnthropicUsage(usage) } as Chunk, hidden: !includeUsage };
        yield { type: 'done' };
        return;
      case 'error': {
        const err = (data.error ?? {}) as Obj;
        const errType = typeof err.type === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(err.type) ? err.type : 'upstream_error';
        yield errorPart(typeof err.message === 'string' ? redact(err.message) : 'The upstream reported an error mid-stream', errType, errType);
        return;
      }
      default:
        break; // ping, content_block_stop, and event kinds added later
    }
  }
}
