/**
 * OpenAI SSE events → stream parts. Every part made from one event carries that event's own data text (`raw`), so an OpenAI
 * edge forwards it unchanged when nothing altered it. `[DONE]` ends the stream cleanly; an in-band error (an `error` event, or
 * a data object carrying `error` and no `choices`) becomes an error part.
 */
import { isPartIndex, type StreamPart, type WireEvent } from '../../llm/parts.js';
import type { Redact } from '../redact.js';
import type { SseEvent } from '../sse.js';
import type { Chunk } from './openai-api.js';
import { readUsage } from './read-usage.js';
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

/** A chunk naming a choice or tool-call index that is not a small whole number (see MAX_PART_INDEX). */
export class BadChunkIndex extends Error {
  constructor() {
    super('The upstream sent a chunk with a choice or tool-call index out of range');
  }
}

/** The index an upstream gave, or `missing` when it gave no number; throws BadChunkIndex for a number out of range. */
function indexOf(v: unknown, missing: number): number {
  if (typeof v !== 'number') return missing;
  if (!isPartIndex(v)) throw new BadChunkIndex();
  return v;
}

/**
 * Reads OpenAI chunks into parts, remembering what a chunk alone does not say: the reply's identity (metadata is emitted when
 * it first appears or changes) and the tool calls still open per choice (closed by the choice's finish reason).
 */
export class ChunkReader {
  private id: string | undefined;
  private model: string | undefined;
  private created: number | undefined;
  private fingerprint: string | undefined;
  /** Open tool calls per choice: their indexes in order of appearance. */
  private readonly open = new Map<number, number[]>();

  /**
   * The parts of one chunk (without `raw`), appended to `out`. `hideUsage`: a usage-only chunk was requested by the gateway,
   * not the client. Throws BadChunkIndex (before appending anything) for a choice or tool-call index out of range.
   */
  read(chunk: Chunk, hideUsage: boolean, out: StreamPart[] = []): StreamPart[] {
    const choices = chunk.choices;
    if (Array.isArray(choices)) checkIndexes(choices);
    const id = typeof chunk.id === 'string' ? chunk.id : '';
    const model = typeof chunk.model === 'string' ? chunk.model : '';
    const created = typeof chunk.created === 'number' ? chunk.created : 0;
    const fp = typeof chunk.system_fingerprint === 'string' ? chunk.system_fingerprint : undefined;
    if (id !== this.id || model !== this.model || created !== this.created || fp !== this.fingerprint) {
      this.id = id;
      this.model = model;
      this.created = created;
      this.fingerprint = fp;
      out.push(fp === undefined ? { type: 'metadata', id, model, created } : { type: 'metadata', id, model, created, systemFingerprint: fp });
    }
    if (Array.isArray(choices)) for (const c of choices) if (c !== null && typeof c === 'object') this.readChoice(c, out);
    // A usage without a usable prompt count makes no part: the accounting estimates instead (see readUsage).
    const usage = readUsage(chunk.usage);
    if (usage !== undefined) out.push(hiddenUsage(chunk, hideUsage) ? { type: 'usage', usage, hidden: true } : { type: 'usage', usage });
    return out;
  }

  private readChoice(c: NonNullable<Chunk['choices']>[number], out: StreamPart[]): void {
    const choice = indexOf(c.index, 0);
    const logprobs = c.logprobs !== null && typeof c.logprobs === 'object' ? c.logprobs : undefined;
    if (typeof c.text === 'string') {
      out.push(logprobs === undefined ? { type: 'text-delta', choice, text: c.text } : { type: 'text-delta', choice, text: c.text, logprobs });
    }
    const d = c.delta;
    if (d !== null && typeof d === 'object') {
      const reasoning = typeof d.reasoning_content === 'string' ? d.reasoning_content : typeof d.reasoning === 'string' ? d.reasoning : undefined;
      if (reasoning !== undefined) out.push({ type: 'reasoning-delta', choice, text: reasoning });
      if (typeof d.content === 'string') {
        out.push(logprobs === undefined ? { type: 'text-delta', choice, text: d.content } : { type: 'text-delta', choice, text: d.content, logprobs });
      }
      if (typeof d.refusal === 'string') out.push({ type: 'refusal-delta', choice, text: d.refusal });
      if (Array.isArray(d.tool_calls)) {
        for (const t of d.tool_calls) {
          if (t === null || typeof t !== 'object') continue;
          let calls = this.open.get(choice);
          if (calls === undefined) this.open.set(choice, (calls = []));
          const index = indexOf(t.index, calls.length);
          const fn = t.function;
          if (!calls.includes(index)) {
            calls.push(index);
            out.push({ type: 'tool-call-start', choice, index, id: typeof t.id === 'string' ? t.id : '', name: typeof fn?.name === 'string' ? fn.name : '' });
          }
          if (typeof fn?.arguments === 'string' && fn.arguments !== '') out.push({ type: 'tool-call-delta', choice, index, argsDelta: fn.arguments });
        }
      }
    }
    if (typeof c.finish_reason === 'string') {
      const calls = this.open.get(choice);
      if (calls !== undefined) {
        for (const index of calls) out.push({ type: 'tool-call-end', choice, index });
        this.open.delete(choice);
      }
      out.push({ type: 'finish', choice, reason: c.finish_reason });
    }
  }
}

/** A usage-only chunk the gateway asked for (`hideUsage`), not the client: none of it is the client's to see. */
const hiddenUsage = (chunk: Chunk, hideUsage: boolean): boolean =>
  hideUsage && chunk.usage !== null && typeof chunk.usage === 'object' && (!Array.isArray(chunk.choices) || chunk.choices.length === 0);

/** Every index of a chunk's choices and tool calls is checked before any part of it is made. */
function checkIndexes(choices: readonly unknown[]): void {
  for (const c of choices) {
    if (c === null || typeof c !== 'object') continue;
    const { index, delta } = c as { index?: unknown; delta?: { tool_calls?: unknown } | null };
    indexOf(index, 0);
    const calls = delta !== null && typeof delta === 'object' ? delta.tool_calls : undefined;
    if (Array.isArray(calls)) for (const t of calls) if (t !== null && typeof t === 'object') indexOf((t as { index?: unknown }).index, 0);
  }
}

/**
 * Gives every part of one event (`parts` from index `from` on) the event's text; an event with nothing typed becomes a `raw`
 * part so it is still forwarded.
 */
function attachRaw(parts: StreamPart[], from: number, data: string): void {
  const n = parts.length - from;
  if (n === 0) {
    parts.push({ type: 'raw', raw: { format: 'openai', data, parts: 1 } });
    return;
  }
  const raw: WireEvent = { format: 'openai', data, parts: n };
  for (let i = from; i < parts.length; i++) (parts[i] as { raw?: WireEvent }).raw = raw;
}

/**
 * OpenAI SSE events → parts, one event at a time and synchronously, so an adapter turns a whole upstream read into parts in
 * one pass. `hideUsage`: the usage-only chunk was requested by the gateway, not the client, and is marked hidden.
 */
export class OpenAIEventReader {
  private readonly reader = new ChunkReader();

  constructor(private readonly hideUsage: boolean, private readonly redact: Redact) {}

  /** Appends the parts of one event to `out`; true when the stream ends with it (`done`, or an error part). */
  read(ev: SseEvent, out: StreamPart[]): boolean {
    const data = ev.data;
    if (data === '[DONE]') {
      out.push({ type: 'done' });
      return true;
    }
    let chunk: Chunk;
    try {
      chunk = JSON.parse(data) as Chunk;
    } catch {
      out.push(ev.event === 'error' ? errorPart(this.redact(data), 'upstream_error', null)
        : errorPart('The upstream sent a chunk that is not JSON', 'upstream_error', 'upstream_bad_chunk'));
      return true;
    }
    if (chunk === null || typeof chunk !== 'object' || Array.isArray(chunk)) {
      out.push(errorPart('The upstream sent a chunk that is not a JSON object', 'upstream_error', 'upstream_bad_chunk'));
      return true;
    }
    if (ev.event === 'error' || ('error' in chunk && chunk.choices === undefined)) {
      out.push(inBandError(chunk, this.redact));
      return true;
    }
    const from = out.length;
    try {
      this.reader.read(chunk, this.hideUsage, out);
    } catch (err) {
      if (!(err instanceof BadChunkIndex)) throw err;
      out.length = from;
      out.push(errorPart(err.message, 'upstream_error', 'upstream_bad_chunk'));
      return true;
    }
    // An event with hidden usage is not the client's to see as sent: nothing of it is forwarded verbatim.
    if (!hiddenUsage(chunk, this.hideUsage)) attachRaw(out, from, data);
    return false;
  }
}

/** The parts of a stream of OpenAI SSE events (see OpenAIEventReader), one at a time. */
export async function* openaiStreamParts(events: AsyncIterable<SseEvent>, hideUsage: boolean, redact: Redact): AsyncGenerator<StreamPart> {
  const reader = new OpenAIEventReader(hideUsage, redact);
  const parts: StreamPart[] = [];
  for await (const ev of events) {
    parts.length = 0;
    const ended = reader.read(ev, parts);
    for (let i = 0; i < parts.length; i++) yield parts[i];
    if (ended) return;
  }
}
