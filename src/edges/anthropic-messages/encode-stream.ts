/**
 * Stream parts → Anthropic's event stream, as a StreamEncoder (src/edges/types.ts). Parts made from an Anthropic upstream
 * event (the caller's own request sent as is, src/llm/protocol.ts) carry that event; when all of an event's parts arrive
 * unchanged its bytes are written as they came (pass-through, signatures and unknown block kinds included). Otherwise the
 * parts' facts are encoded by MessageEventEncoder, which keeps track of the stream either way so the two can follow each other.
 */
import type { StreamFailure, StreamPart, WireEvent } from '../../llm/parts.js';
import type { StreamEncoder } from '../types.js';
import { anthropicErrorEvent } from './anthropic-errors.js';
import { messageId, stopReasonOf, usageOf } from './convert-chat-to-message.js';
import { MessageEventEncoder } from './encode-message-events.js';

export class AnthropicStreamEncoder implements StreamEncoder {
  private readonly events: MessageEventEncoder;
  /** The upstream event whose parts are arriving, and those held so far. */
  private group: WireEvent | undefined;
  private held: StreamPart[] = [];
  private broken = false;

  constructor(id: string, model: string) {
    this.events = new MessageEventEncoder(messageId(id), model);
  }

  encode(part: StreamPart): string {
    const raw = 'raw' in part ? part.raw : undefined;
    if (raw !== undefined && raw.format === 'anthropic') {
      if (raw === this.group) {
        if (this.broken) return this.serialise(part);
        this.held.push(part);
        return this.held.length < raw.parts ? '' : this.forward(raw);
      }
      const out = this.release();
      this.group = raw;
      this.broken = false;
      this.held.push(part);
      return out + (raw.parts === 1 ? this.forward(raw) : '');
    }
    const out = this.release();
    if (this.group !== undefined) this.broken = true;
    return out + this.serialise(part);
  }

  fail(failure: StreamFailure): string {
    const e = anthropicErrorEvent(failure);
    return this.release() + this.events.error(e.error.type, e.error.message);
  }

  /** All of an event's parts arrived unchanged: the upstream's own bytes (the encoder still notes what they said). */
  private forward(raw: WireEvent): string {
    for (const p of this.held) this.serialise(p);
    this.held = [];
    this.group = undefined;
    this.events.passed(raw.event);
    return `event: ${raw.event ?? 'message'}\ndata: ${raw.data}\n\n`;
  }

  /** Held parts of an event that did not complete unchanged are serialised. */
  private release(): string {
    if (this.held.length === 0) {
      this.group = undefined;
      return '';
    }
    let out = '';
    for (const p of this.held) out += this.serialise(p);
    this.held = [];
    this.group = undefined;
    return out;
  }

  private serialise(part: StreamPart): string {
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
