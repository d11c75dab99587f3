/**
 * Serialises a streamed reply into the Responses event sequence: response.created and response.in_progress first, then per
 * output item output_item.added → (content_part.added → output_text.delta… → output_text.done → content_part.done) or
 * function_call_arguments.delta… → function_call_arguments.done → output_item.done, and at the end response.completed (or
 * response.incomplete) carrying the whole Response with usage. Every event has a sequence_number from 0. A stream that breaks
 * ends with an `error` event, never a completion. This is the one module that knows the event sequence. The whole Response is
 * kept for response.completed, so a stream whose output grows past the largest JSON reply the gateway accepts
 * (MAX_REPLY_BODY) is refused there (`encode` throws; the writer ends the stream with an error event and the upstream call)
 * rather than held in memory without bound.
 */
import type { StreamFailure, StreamPart } from '../../llm/parts.js';
import { overReplyCap } from '../../providers/failure.js';
import { MAX_REPLY_BODY } from '../../providers/http.js';
import type { StreamEncoder } from '../types.js';
import { finishOf, newId, responseUsage } from './build-response.js';
import type { OutputItem, ResponseObject } from './responses-api.js';

type Obj = Record<string, unknown>;
type MessageItem = Extract<OutputItem, { type: 'message' }>;
type CallItem = Extract<OutputItem, { type: 'function_call' }>;
type Content = MessageItem['content'][number];

/** The message item being written and the kind of its last content part. */
interface OpenMessage {
  index: number;
  item: MessageItem;
}

export class ResponsesStreamEncoder implements StreamEncoder {
  private seq = 0;
  private started = false;
  private readonly output: OutputItem[] = [];
  private message: OpenMessage | undefined;
  /** Function-call items by the tool-call index; each closes at its tool-call-end (or at the end). */
  private readonly calls = new Map<number, { index: number; item: CallItem }>();
  private finish: unknown;
  private usage: unknown;
  /** Characters of output kept so far (texts, call names and arguments, a little per item). */
  private size = 0;

  /**
   * `start`: the response as created. `completed` runs with the final response before response.completed is sent (to store
   * it, so a caller that continues at once finds it); it must not reject.
   */
  constructor(private readonly start: ResponseObject, private readonly completed: (final: ResponseObject) => Promise<void>) {}

  private event(type: string, fields: Obj): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: this.seq++ })}\n\n`;
  }

  private begin(): string {
    if (this.started) return '';
    this.started = true;
    return this.event('response.created', { response: this.start }) + this.event('response.in_progress', { response: this.start });
  }

  encode(part: StreamPart): string | Promise<string> {
    const head = this.begin();
    // The Responses API has one output per response: other choices (never asked for by this edge) are not sent.
    if ('choice' in part && part.choice !== 0) return head;
    switch (part.type) {
      case 'text-delta': return head + this.text('output_text', part.text);
      case 'refusal-delta': return head + this.text('refusal', part.text);
      case 'tool-call-start': return head + this.openCall(part.index, part.id, part.name);
      case 'tool-call-delta': return head + this.callDelta(part.index, part.argsDelta);
      case 'tool-call-end': return head + this.closeCall(part.index);
      case 'finish':
        this.finish = part.reason;
        return head;
      case 'usage':
        this.usage = part.usage;
        return head;
      case 'done': return this.end(head);
      case 'error': return head + this.fail(part.failure);
      // Identity, reasoning text and untyped upstream events have no place in this protocol's stream.
      case 'metadata':
      case 'reasoning-delta':
      case 'raw':
        return head;
    }
  }

  fail(failure: StreamFailure): string {
    return this.begin() + this.event('error', { code: failure.code ?? failure.type, message: failure.message, param: null });
  }

  /** Counts `chars` more output kept; past the bound the stream is refused. */
  private grew(chars: number): void {
    this.size += chars;
    if (this.size <= MAX_REPLY_BODY) return;
    throw overReplyCap('The response is', MAX_REPLY_BODY);
  }

  /** A text or refusal delta: opens the message item and the content part it belongs to when needed. */
  private text(kind: Content['type'], delta: string): string {
    this.grew(delta.length + 1);
    let out = '';
    if (this.message === undefined) {
      const item: MessageItem = { type: 'message', id: newId('msg'), status: 'in_progress', role: 'assistant', content: [] };
      this.message = { index: this.output.push(item) - 1, item };
      out += this.event('response.output_item.added', { output_index: this.message.index, item: { ...item, content: [] } });
    }
    const { index, item } = this.message;
    let last = item.content.at(-1);
    if (last?.type !== kind) {
      if (last !== undefined) out += this.closePart(this.message, item.content.length - 1);
      last = kind === 'output_text' ? { type: 'output_text', text: '', annotations: [], logprobs: [] } : { type: 'refusal', refusal: '' };
      item.content.push(last);
      out += this.event('response.content_part.added', { item_id: item.id, output_index: index, content_index: item.content.length - 1, part: last });
    }
    const at = { item_id: item.id, output_index: index, content_index: item.content.length - 1 };
    if (last.type === 'output_text') {
      last.text += delta;
      return out + this.event('response.output_text.delta', { ...at, delta, logprobs: [] });
    }
    last.refusal += delta;
    return out + this.event('response.refusal.delta', { ...at, delta });
  }

  private closePart(m: OpenMessage, contentIndex: number): string {
    const part = m.item.content[contentIndex]!;
    const at = { item_id: m.item.id, output_index: m.index, content_index: contentIndex };
    const done = part.type === 'output_text'
      ? this.event('response.output_text.done', { ...at, text: part.text, logprobs: [] })
      : this.event('response.refusal.done', { ...at, refusal: part.refusal });
    return done + this.event('response.content_part.done', { ...at, part });
  }

  private closeMessage(status: MessageItem['status']): string {
    const m = this.message;
    if (m === undefined) return '';
    this.message = undefined;
    const out = m.item.content.length > 0 ? this.closePart(m, m.item.content.length - 1) : '';
    m.item.status = status;
    return out + this.event('response.output_item.done', { output_index: m.index, item: m.item });
  }

  /** A function call begins: the text before it ends (the Responses API puts them in separate items). */
  private openCall(key: number, callId: string, name: string): string {
    this.grew(64 + callId.length + name.length);
    const out = this.closeMessage('completed');
    const item: CallItem = { type: 'function_call', id: newId('fc'), call_id: callId || newId('fc'), name, arguments: '', status: 'in_progress' };
    const call = { index: this.output.push(item) - 1, item };
    this.calls.set(key, call);
    return out + this.event('response.output_item.added', { output_index: call.index, item: { ...item } });
  }

  private callDelta(key: number, delta: string): string {
    const out = this.calls.has(key) ? '' : this.openCall(key, '', '');
    const call = this.calls.get(key)!;
    if (delta.length === 0) return out;
    this.grew(delta.length);
    call.item.arguments += delta;
    return out + this.event('response.function_call_arguments.delta', { item_id: call.item.id, output_index: call.index, delta });
  }

  private closeCall(key: number): string {
    const call = this.calls.get(key);
    if (call === undefined || call.item.status !== 'in_progress') return '';
    const { index, item } = call;
    item.status = 'completed';
    return this.event('response.function_call_arguments.done', { item_id: item.id, output_index: index, arguments: item.arguments })
      + this.event('response.output_item.done', { output_index: index, item });
  }

  private async end(head: string): Promise<string> {
    const finish = finishOf(this.finish);
    const itemStatus = finish.status === 'completed' ? 'completed' : 'incomplete';
    let out = head + this.closeMessage(itemStatus);
    for (const key of this.calls.keys()) out += this.closeCall(key);
    const final: ResponseObject = { ...this.start, ...finish, output: this.output, usage: responseUsage(this.usage) };
    await this.completed(final);
    return out + this.event(finish.status === 'completed' ? 'response.completed' : 'response.incomplete', { response: final });
  }
}
