/**
 * Stream parts → Anthropic's event stream, as a StreamEncoder (src/edges/types.ts). Parts made from an Anthropic upstream
 * event (the caller's own request sent as is, src/llm/protocol.ts) carry that event; when all of an event's parts arrive
 * unchanged its bytes are written as they came (pass-through, signatures and unknown block kinds included). Otherwise the
 * parts' facts are encoded by MessageEventEncoder, which keeps track of the stream either way so the two can follow each other.
 */
import type { StreamFailure, StreamPart, WireEvent } from '../../llm/parts.js';
import { dataLines } from '../../providers/sse.js';
import { PassThroughEncoder } from '../pass-through-encoder.js';
import { anthropicErrorEvent } from './anthropic-errors.js';
import { messageId, stopReasonOf, usageOf } from './convert-chat-to-message.js';
import { MessageEventEncoder } from './encode-message-events.js';

export class AnthropicStreamEncoder extends PassThroughEncoder {
  private readonly events: MessageEventEncoder;

  constructor(id: string, model: string) {
    super('anthropic');
    this.events = new MessageEventEncoder(messageId(id), model);
  }

  fail(failure: StreamFailure): string {
    const e = anthropicErrorEvent(failure);
    return this.release() + this.events.error(e.error.type, e.error.message);
  }

  /** The encoder still notes what a forwarded part said, so serialised events can follow forwarded ones. */
  protected passed(part: StreamPart): void {
    this.serialise(part);
  }

  protected wire(raw: WireEvent): string {
    this.events.passed(raw.event);
    return `event: ${raw.event ?? 'message'}\ndata: ${dataLines(raw.data)}\n\n`;
  }

  protected serialise(part: StreamPart): string {
    const e = this.events;
    switch (part.type) {
      case 'metadata': return e.start(messageId(part.id), part.model);
      case 'text-delta': return part.choice === 0 ? e.text(part.text) : '';
      case 'refusal-delta': return part.choice === 0 ? e.text(part.text) : '';
      case 'reasoning-delta': return part.choice === 0 ? e.thinking(part.text) : '';
      case 'tool-call-start': return part.choice === 0 ? e.toolStart(part.index, part.id, part.name) : '';
      case 'tool-call-delta': return part.choice === 0 ? e.toolInput(part.index, part.argsDelta) : '';
      case 'tool-call-end': return '';
      case 'finish':
        if (part.choice === 0) e.stop(stopReasonOf(part.reason));
        return '';
      case 'usage':
        e.setUsage(usageOf(part.usage));
        return '';
      case 'raw': return '';
      case 'done': return e.finish();
      case 'error': {
        const err = anthropicErrorEvent(part.failure);
        return e.error(err.error.type, err.error.message);
      }
      default: return '';
    }
  }
}
