/**
 * A Responses API event stream (from an upstream configured with `responses: true`) as typed stream parts: metadata, text,
 * refusal and reasoning deltas, function calls (start, argument deltas, end), the finish reason and usage from response.completed /
 * response.incomplete, then the end. response.failed and `error` events become an error part. Events the gateway does not
 * model (reasoning summaries, annotations, …) are skipped.
 */
import type { Redact } from '../redact.js';
import type { SseEvent } from '../sse.js';
import type { StreamPart, Usage, WireEvent } from '../../llm/parts.js';
import { errorPart } from '../openai/start-stream.js';
import { chatUsage, finishReason } from './convert-responses-reply.js';

type Obj = Record<string, unknown>;

const WORD = /^[A-Za-z0-9_.-]{1,64}$/;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Reads one stream's events, remembering the reply's identity and which output items are function calls. */
class EventReader {
  private id = '';
  private model = '';
  private created = 0;
  /** Function-call items: output index → chat tool-call index. */
  private readonly calls = new Map<number, number>();

  constructor(private readonly hideUsage: boolean, private readonly redact: Redact) {}

  private failure(e: unknown, fallback: string): StreamPart {
    const err = isObj(e) ? e : {};
    return errorPart(
      typeof err.message === 'string' ? this.redact(err.message) : fallback,
      'upstream_error',
      (typeof err.code === 'string' || typeof err.code === 'number') && WORD.test(String(err.code)) ? String(err.code) : null,
    );
  }

  /** The parts of one event; `end` when the stream is over. */
  read(ev: Obj): { parts: StreamPart[]; end?: boolean } {
    switch (ev.type) {
      case 'response.created': {
        const r = isObj(ev.response) ? ev.response : {};
        this.id = String(r.id ?? '');
        this.model = String(r.model ?? '');
        this.created = typeof r.created_at === 'number' ? r.created_at : 0;
        return { parts: [{ type: 'metadata', id: this.id, model: this.model, created: this.created }] };
      }
      case 'response.output_text.delta':
        return { parts: typeof ev.delta === 'string' && ev.delta.length > 0 ? [{ type: 'text-delta', choice: 0, text: ev.delta }] : [] };
      case 'response.refusal.delta':
        return { parts: typeof ev.delta === 'string' && ev.delta.length > 0 ? [{ type: 'refusal-delta', choice: 0, text: ev.delta }] : [] };
      case 'response.reasoning_text.delta':
      case 'response.reasoning_summary_text.delta':
        return { parts: typeof ev.delta === 'string' && ev.delta.length > 0 ? [{ type: 'reasoning-delta', choice: 0, text: ev.delta }] : [] };
      case 'response.output_item.added': {
        const item = isObj(ev.item) ? ev.item : {};
        if (item.type !== 'function_call') return { parts: [] };
        const index = this.calls.size;
        this.calls.set(Number(ev.output_index), index);
        return { parts: [{ type: 'tool-call-start', choice: 0, index, id: String(item.call_id ?? ''), name: String(item.name ?? '') }] };
      }
      case 'response.output_item.done': {
        const index = this.calls.get(Number(ev.output_index));
        return { parts: index === undefined ? [] : [{ type: 'tool-call-end', choice: 0, index }] };
      }
      case 'response.function_call_arguments.delta': {
        const index = this.calls.get(Number(ev.output_index));
        if (index === undefined || typeof ev.delta !== 'string' || ev.delta.length === 0) return { parts: [] };
        return { parts: [{ type: 'tool-call-delta', choice: 0, index, argsDelta: ev.delta }] };
      }
      case 'response.completed':
      case 'response.incomplete': {
        const r = isObj(ev.response) ? ev.response : {};
        const usage = chatUsage(r.usage);
        const parts: StreamPart[] = [{ type: 'finish', choice: 0, reason: finishReason(r, this.calls.size > 0) }];
        if (usage) parts.push(this.hideUsage ? { type: 'usage', usage: usage as unknown as Usage, hidden: true } : { type: 'usage', usage: usage as unknown as Usage });
        parts.push({ type: 'done' });
        return { parts, end: true };
      }
      case 'response.failed': {
        const r = isObj(ev.response) ? ev.response : {};
        return { parts: [this.failure(r.error, 'The upstream response failed')], end: true };
      }
      case 'error':
        return { parts: [this.failure(ev, 'The upstream reported an error mid-stream')], end: true };
      default:
        return { parts: [] };
    }
  }
}

/**
 * `hideUsage`: the client did not ask for usage (chat's stream_options.include_usage); it is carried for accounting only.
 * `keepRaw` (the caller's own Responses request was sent, see src/llm/protocol.ts): every part made from an event carries the
 * event verbatim, and an event that makes no typed part (response.in_progress, content_part.added, a built-in tool's or a
 * reasoning item's events, kinds added later) travels as a `raw` part, so the Responses edge can forward the stream byte for
 * byte, named by its data's type (whatever the upstream's event line said). Data without a type is no event: skipped. The
 * closing `done` part carries nothing; an upstream error (`error`, response.failed) is never forwarded verbatim: its message
 * is redacted first.
 */
export async function* responsesStreamParts(events: AsyncIterable<SseEvent>, hideUsage: boolean, redact: Redact, keepRaw = false): AsyncGenerator<StreamPart> {
  const reader = new EventReader(hideUsage, redact);
  for await (const sse of events) {
    let ev: unknown;
    try {
      ev = JSON.parse(sse.data);
    } catch {
      yield errorPart('The upstream sent an event that is not JSON', 'upstream_error', 'upstream_bad_chunk');
      return;
    }
    if (!isObj(ev)) {
      yield errorPart('The upstream sent an event that is not a JSON object', 'upstream_error', 'upstream_bad_chunk');
      return;
    }
    // An event is what its data's type says (an `error` event may leave it out); data without one is no event: skipped,
    // never forwarded (a caller's SDK dispatches on the type, and the event line must name the same).
    const type = sse.event === 'error' && ev.type === undefined ? 'error' : ev.type;
    if (typeof type !== 'string') continue;
    const { parts, end } = reader.read(type === ev.type ? ev : { ...ev, type });
    const last = parts.at(-1);
    if (keepRaw && last?.type !== 'error') {
      const carrying = last?.type === 'done' ? parts.length - 1 : parts.length;
      const raw: WireEvent = { format: 'responses', data: sse.data, parts: Math.max(1, carrying), event: type };
      if (carrying === 0) yield { type: 'raw', raw };
      for (let i = 0; i < carrying; i++) yield { ...parts[i], raw } as StreamPart;
      if (carrying < parts.length) yield parts[carrying]!;
    } else {
      for (const p of parts) yield p;
    }
    if (end) return;
  }
}
