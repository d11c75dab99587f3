/**
 * Anthropic's streaming event sequence, built from neutral facts (text, reasoning, tool call start and argument deltas, stop
 * reason, usage): message_start and a ping, then one content block at a time — content_block_start, its deltas (text_delta,
 * thinking_delta, input_json_delta), content_block_stop — then message_delta with stop_reason and usage, and message_stop.
 * An `error` event ends a stream that broke. Pure: each method returns the SSE text to write (possibly empty).
 */
import type { AnthropicUsageOut } from './convert-chat-to-message.js';

type Obj = Record<string, unknown>;

const sse = (type: string, data: Obj): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

type OpenBlock = { kind: 'text' | 'thinking' } | { kind: 'tool'; key: number };

export class MessageEventEncoder {
  private started = false;
  private ended = false;
  private open: OpenBlock | undefined;
  private next = 0;
  /** Tool call key (the internal stream's tool index) → its content block index. */
  private readonly toolBlocks = new Map<number, number>();
  private stopReason: string | null = null;
  private usage: AnthropicUsageOut = { input_tokens: 0, output_tokens: 0 };

  constructor(private id: string, private model: string) {}

  /** message_start + ping, once; `id` and `model` as the first upstream part told them, when it did. */
  start(id?: string, model?: string): string {
    if (this.started) return '';
    this.started = true;
    if (id !== undefined) this.id = id;
    if (model !== undefined && model !== '') this.model = model;
    const message = {
      id: this.id, type: 'message', role: 'assistant', model: this.model, content: [], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: this.usage.input_tokens, output_tokens: 0 },
    };
    return sse('message_start', { message }) + sse('ping', {});
  }

  private closeBlock(): string {
    if (this.open === undefined) return '';
    const index = this.open.kind === 'tool' ? this.toolBlocks.get(this.open.key)! : this.next - 1;
    this.open = undefined;
    return sse('content_block_stop', { index });
  }

  private openBlock(block: OpenBlock, content: Obj): string {
    const out = this.start() + this.closeBlock();
    const index = this.next++;
    if (block.kind === 'tool') this.toolBlocks.set(block.key, index);
    this.open = block;
    return out + sse('content_block_start', { index, content_block: content });
  }

  text(text: string): string {
    if (text === '') return this.start();
    const out = this.open?.kind === 'text' ? this.start() : this.openBlock({ kind: 'text' }, { type: 'text', text: '' });
    return out + sse('content_block_delta', { index: this.next - 1, delta: { type: 'text_delta', text } });
  }

  thinking(text: string): string {
    if (text === '') return this.start();
    const out = this.open?.kind === 'thinking' ? this.start() : this.openBlock({ kind: 'thinking' }, { type: 'thinking', thinking: '', signature: '' });
    return out + sse('content_block_delta', { index: this.next - 1, delta: { type: 'thinking_delta', thinking: text } });
  }

  /** A tool call begins: its own tool_use block. */
  toolStart(key: number, id: string, name: string): string {
    return this.openBlock({ kind: 'tool', key }, { type: 'tool_use', id, name, input: {} });
  }

  /** A piece of a tool call's JSON arguments, on that call's block. */
  toolInput(key: number, partialJson: string): string {
    const index = this.toolBlocks.get(key);
    if (index === undefined || partialJson === '') return this.start();
    return this.start() + sse('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partialJson } });
  }

  stop(reason: string | null): void {
    if (reason !== null) this.stopReason = reason;
  }

  setUsage(usage: AnthropicUsageOut): void {
    this.usage = usage;
  }

  /** The clean end: the open block closed, message_delta (stop reason, usage), message_stop. */
  finish(): string {
    if (this.ended) return '';
    this.ended = true;
    const usage: Obj = { ...this.usage };
    return this.start() + this.closeBlock()
      + sse('message_delta', { delta: { stop_reason: this.stopReason ?? 'end_turn', stop_sequence: null }, usage })
      + sse('message_stop', {});
  }

  /**
   * An upstream event the edge forwarded as is: what it means for the sequence, so events encoded later continue it (a block
   * it closed is not closed again, a stream it ended is not ended again).
   */
  passed(event: string | undefined): void {
    if (event === 'message_start') this.started = true;
    else if (event === 'content_block_stop') this.open = undefined;
    else if (event === 'message_stop') this.ended = true;
  }

  /** True once message_stop went out. */
  get done(): boolean {
    return this.ended;
  }

  /** A broken stream: Anthropic's `error` event (no message_stop follows). */
  error(type: string, message: string): string {
    return sse('error', { error: { type, message } });
  }
}
