/**
 * The event stream of a Responses upstream that answered the caller's own request (pass-through, src/llm/protocol.ts), as a
 * StreamEncoder: every upstream event whose parts arrive unchanged is written as it came — its sequence number, the
 * upstream's response and item ids, built-in tool, reasoning and annotation events included. The terminal event
 * (response.completed / response.incomplete) is held until the stream's end, so the response is stored before the caller
 * can read that it finished (a caller that continues at once finds it). A delta a stage changed is written as the Responses
 * delta event of the upstream item it belongs to, numbered after the last event written. A failure — the upstream's (its
 * message redacted, never forwarded verbatim) or the gateway's — ends the stream with an `error` event, never a completion.
 */
import type { StreamFailure, StreamPart, WireEvent } from '../../llm/parts.js';
import { dataLines } from '../../providers/sse.js';
import { PassThroughEncoder } from '../pass-through-encoder.js';
import type { StreamEncoder } from '../types.js';

type Obj = Record<string, unknown>;

const TERMINAL: ReadonlySet<string | undefined> = new Set(['response.completed', 'response.incomplete']);

/** One SSE event as the upstream framed it (its data on as many `data:` lines as it had). */
function frame(raw: WireEvent): string {
  return `event: ${raw.event ?? 'message'}\ndata: ${dataLines(raw.data)}\n\n`;
}

function parse(data: string): Obj {
  try {
    const v: unknown = JSON.parse(data);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
  } catch {
    return {};
  }
}

/**
 * The pass-through encoder: upstream events forwarded or changed parts serialised by `UpstreamEvents`, the terminal event
 * written after the response was stored.
 */
export class ResponsesPassThroughEncoder implements StreamEncoder {
  private readonly events = new UpstreamEvents();

  /**
   * `completed` (when the response is to be stored) runs with the upstream's final Response (undefined when its event
   * carried none) before the terminal event is written; it must not reject.
   */
  constructor(private readonly completed?: (response: Obj | undefined) => Promise<void>) {}

  encode(part: StreamPart): string | Promise<string> {
    if (part.type !== 'done') return this.events.encode(part);
    const out = this.events.flush();
    const terminal = this.events.terminal;
    if (terminal === undefined) return out;
    if (this.completed === undefined) return out + frame(terminal);
    const response = parse(terminal.data).response;
    const final = response !== null && typeof response === 'object' && !Array.isArray(response) ? (response as Obj) : undefined;
    return this.completed(final).then(() => out + frame(terminal));
  }

  fail(failure: StreamFailure): string {
    return this.events.fail(failure);
  }
}

class UpstreamEvents extends PassThroughEncoder {
  /** The upstream's terminal event, written at the end. */
  terminal: WireEvent | undefined;
  /** The last event written as it came, and the last that carried a delta (whose item a changed delta belongs to). */
  private last: WireEvent | undefined;
  private lastDelta: WireEvent | undefined;
  /** The sequence number of the last event the gateway wrote itself, while no upstream event followed it. */
  private ownSeq: number | undefined;

  constructor() {
    super('responses');
  }

  /** What is held, serialised (before the stream's end). */
  flush(): string {
    return this.release();
  }

  fail(failure: StreamFailure): string {
    return this.release() + this.event('error', { code: failure.code ?? failure.type, message: failure.message, param: null });
  }

  protected passed(): void {
    // Forwarded parts need no bookkeeping: what a changed part needs is read from the events themselves (`wire`).
  }

  protected wire(raw: WireEvent): string {
    if (TERMINAL.has(raw.event)) {
      this.terminal = raw;
      return '';
    }
    this.last = raw;
    this.ownSeq = undefined;
    if (raw.event?.endsWith('.delta') === true) this.lastDelta = raw;
    return frame(raw);
  }

  protected serialise(part: StreamPart): string {
    switch (part.type) {
      case 'text-delta': return this.delta('response.output_text.delta', part.text);
      case 'refusal-delta': return this.delta('response.refusal.delta', part.text);
      case 'reasoning-delta': return this.delta('response.reasoning_text.delta', part.text);
      case 'tool-call-delta': return this.delta('response.function_call_arguments.delta', part.argsDelta);
      case 'error': return this.fail(part.failure);
      default:
        // The rest of a terminal event whose other part changed: the upstream's event still closes the stream.
        if ('raw' in part && part.raw !== undefined && TERMINAL.has(part.raw.event)) this.terminal = part.raw;
        return '';
    }
  }

  /** A changed delta, in the item (and content part) of the last upstream delta. */
  private delta(type: string, delta: string): string {
    if (delta.length === 0) return '';
    const at = this.lastDelta !== undefined ? parse(this.lastDelta.data) : {};
    const fields: Obj = {};
    for (const k of ['item_id', 'output_index', 'content_index']) if (at[k] !== undefined) fields[k] = at[k];
    return this.event(type, { ...fields, delta });
  }

  private event(type: string, fields: Obj): string {
    if (this.ownSeq === undefined) {
      const n = this.last !== undefined ? parse(this.last.data).sequence_number : undefined;
      this.ownSeq = typeof n === 'number' ? n : -1;
    }
    this.ownSeq++;
    return `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: this.ownSeq })}\n\n`;
  }
}
