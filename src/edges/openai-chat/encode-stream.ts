/**
 * Stream parts → OpenAI SSE (chat.completion.chunk for /v1/chat/completions, text_completion for /v1/completions).
 * Pass-through (src/edges/pass-through-encoder.ts): parts made from an OpenAI upstream event carry its text; when all of an
 * event's parts arrive unchanged, that text is written as-is (byte-identical to the upstream). Otherwise each part is
 * serialised into its own chunk, which an OpenAI client reads as the same reply.
 */
import type { StreamFailure, StreamPart, WireEvent } from '../../llm/parts.js';
import { dataLines, SSE_DONE } from '../../providers/sse.js';
import { PassThroughEncoder } from '../pass-through-encoder.js';

/** OpenAI's error envelope for an error whose own fields cannot be serialised. */
export const ENVELOPE_FALLBACK = '{"error":{"message":"The gateway failed to handle the request.","type":"server_error","param":null,"code":"internal_error"}}';

/** One SSE error event in the OpenAI error envelope's shape. */
export function errorEvent(failure: StreamFailure): string {
  try {
    // The envelope's own fields only: the failure's class is the gateway's reading of it, not the caller's to see.
    return `data: ${JSON.stringify({ error: { message: failure.message, type: failure.type, code: failure.code } })}\n\n`;
  } catch {
    return `data: ${ENVELOPE_FALLBACK}\n\n`;
  }
}

export type OpenAIStreamKind = 'chat' | 'completion';

/** The encoder for a request that came in on an OpenAI endpoint. */
export const openAIStreamEncoder = (op: string): OpenAIStreamEncoder => new OpenAIStreamEncoder(op === 'completion' ? 'completion' : 'chat');

export class OpenAIStreamEncoder extends PassThroughEncoder {
  private id = '';
  private model = '';
  private created = 0;
  private fingerprint: string | undefined;
  /** Choices whose first delta went out (the first carries the assistant role). */
  private readonly started: boolean[] = [];

  constructor(private readonly kind: OpenAIStreamKind) {
    super('openai');
  }

  fail(failure: StreamFailure): string {
    return this.release() + errorEvent(failure);
  }

  protected wire(raw: WireEvent): string {
    return `data: ${dataLines(raw.data)}\n\n`;
  }

  protected passed(part: StreamPart): void {
    this.note(part);
  }

  /** Keeps the reply's identity and which choices started, whichever way a part went out. */
  private note(part: StreamPart): void {
    if (part.type === 'metadata') {
      this.id = part.id;
      this.model = part.model;
      this.created = part.created;
      this.fingerprint = part.systemFingerprint;
    } else if ('choice' in part) this.started[part.choice] = true;
  }

  private chunk(choices: unknown[], usage?: unknown): string {
    const c: Record<string, unknown> = {
      id: this.id, object: this.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', created: this.created, model: this.model,
    };
    if (this.fingerprint !== undefined) c.system_fingerprint = this.fingerprint;
    c.choices = choices;
    if (usage !== undefined) c.usage = usage;
    return `data: ${JSON.stringify(c)}\n\n`;
  }

  /** A chat delta for one choice; the choice's first delta carries the assistant role. */
  private delta(choice: number, delta: Record<string, unknown>, logprobs?: unknown): string {
    const first = this.started[choice] !== true;
    this.started[choice] = true;
    const d = first ? { role: 'assistant', ...delta } : delta;
    return this.chunk([{ index: choice, delta: d, logprobs: logprobs ?? null, finish_reason: null }]);
  }

  protected serialise(part: StreamPart): string {
    const chat = this.kind === 'chat';
    switch (part.type) {
      case 'metadata':
        this.note(part);
        return '';
      case 'text-delta':
        if (!chat) {
          this.started[part.choice] = true;
          return this.chunk([{ index: part.choice, text: part.text, logprobs: part.logprobs ?? null, finish_reason: null }]);
        }
        return this.delta(part.choice, { content: part.text }, part.logprobs);
      case 'reasoning-delta':
        return chat ? this.delta(part.choice, { reasoning_content: part.text }) : '';
      case 'refusal-delta':
        return chat ? this.delta(part.choice, { refusal: part.text }) : '';
      case 'tool-call-start':
        return chat
          ? this.delta(part.choice, { tool_calls: [{ index: part.index, id: part.id, type: 'function', function: { name: part.name, arguments: '' } }] })
          : '';
      case 'tool-call-delta':
        return chat ? this.delta(part.choice, { tool_calls: [{ index: part.index, function: { arguments: part.argsDelta } }] }) : '';
      case 'finish':
        return this.chunk([chat
          ? { index: part.choice, delta: {}, logprobs: null, finish_reason: part.reason }
          : { index: part.choice, text: '', logprobs: null, finish_reason: part.reason }]);
      case 'usage':
        return part.hidden === true ? '' : this.chunk([], part.usage);
      case 'done':
        return SSE_DONE;
      case 'error':
        return errorEvent(part.failure);
      case 'tool-call-end':
      case 'raw':
        return '';
    }
  }
}
