/**
 * Cached replies: one stored form (the OpenAI JSON body plus its serialised bytes) shared by streamed and non-streamed
 * requests. A captured stream is assembled into that body (content, refusal, tool calls, logprobs, finish reasons, usage);
 * a hit is served as the JSON reply or replayed as typed stream parts.
 */
import type { PartOf } from '../llm/parts.js';
import { MAX_REPLY_BODY } from '../providers/http.js';
import type { JsonReply, Operation, StreamPart, Usage } from '../providers/types.js';
import { Names } from './names.js';

export interface CachedReply {
  readonly op: Operation;
  /**
   * The OpenAI-format response body (chat.completion, text_completion or list of embeddings), parsed on each read: an
   * entry keeps its serialised text only (the parsed object cost more memory than the text), and a hit reads it once.
   */
  readonly body: Record<string, unknown>;
  /** `body` serialised, sent as-is on a JSON hit (a new buffer on each read). */
  readonly raw: Buffer;
  /** `body` serialised, as the entry keeps it (what a shared store writes). */
  readonly json: string;
  /** Bytes of `raw`. */
  readonly size: number;
  readonly usage: Usage | undefined;
  /** The model the reply names (`body.model`), when it names one. */
  readonly model: string | undefined;
}

/**
 * A reply as an entry keeps it: the serialised body as a JS string. A string of JSON text costs its length (one byte a
 * character for Latin-1 text, two otherwise) and 16 bytes; a buffer of its own cost about 600 bytes more per reply
 * (backing store, array buffer and view; docs/cache.md, "Memory").
 */
class StoredReply implements CachedReply {
  readonly size: number;
  readonly json: string;
  readonly model: string | undefined;
  /**
   * The usage's counts as small integers in the entry itself (-1: none): an object each would cost about 30 bytes an
   * entry. A usage with token details is kept whole (`detailed`).
   */
  private readonly prompt: number;
  private readonly completion: number;
  private readonly total: number;
  private readonly detailed: Usage | undefined;

  constructor(readonly op: Operation, raw: Buffer | string, usage: Usage | undefined, model: string | undefined) {
    this.json = typeof raw === 'string' ? raw : raw.toString('utf8');
    this.size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
    this.model = model === undefined ? undefined : MODEL_NAMES.of(model);
    this.prompt = usage?.prompt_tokens ?? -1;
    this.completion = usage?.completion_tokens ?? 0;
    this.total = usage?.total_tokens ?? 0;
    this.detailed = usage?.prompt_tokens_details !== undefined || usage?.completion_tokens_details !== undefined ? usage : undefined;
  }

  get usage(): Usage | undefined {
    if (this.detailed !== undefined || this.prompt < 0) return this.detailed;
    return { prompt_tokens: this.prompt, completion_tokens: this.completion, total_tokens: this.total };
  }

  get raw(): Buffer { return Buffer.from(this.json, 'utf8'); }
  get body(): Record<string, unknown> { return JSON.parse(this.json) as Record<string, unknown>; }
}

/** One instance of each model name replies give (each parsed reply brings its own copy of a name the others share). */
const MODEL_NAMES = new Names(1000);

/** A reply to keep, from its serialised body (a buffer is not retained: the entry holds its own copy of the text). */
export function storedReply(op: Operation, raw: Buffer | string, usage: Usage | undefined, model: unknown): CachedReply {
  return new StoredReply(op, raw, usage, typeof model === 'string' ? model : undefined);
}

export function usageOf(v: unknown): Usage | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const u = v as Partial<Usage>;
  return typeof u.prompt_tokens === 'number' && typeof u.total_tokens === 'number'
    ? { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens ?? 0, total_tokens: u.total_tokens }
    : undefined;
}

/** A complete, successful JSON reply in a storable form, or undefined when it must not be stored. */
export function fromJsonReply(op: Operation, reply: JsonReply, maxBytes: number = MAX_REPLY_BODY): CachedReply | undefined {
  if (reply.status < 200 || reply.status >= 300) return undefined;
  const body = reply.body;
  if (op === 'embedding') {
    if (!Array.isArray(body.data)) return undefined;
  } else {
    const choices = body.choices;
    if (!Array.isArray(choices) || choices.length === 0) return undefined;
    for (const c of choices) if (!c || typeof (c as { finish_reason?: unknown }).finish_reason !== 'string') return undefined;
  }
  const raw = reply.raw ?? Buffer.from(JSON.stringify(body));
  return raw.length > maxBytes ? undefined : storedReply(op, raw, reply.usage ?? usageOf(body.usage), body.model);
}

interface ToolCallAcc { id?: string; name: string; args: string }
interface ChoiceAcc {
  content?: string;
  refusal?: string;
  text: string;
  tools: ToolCallAcc[];
  logprobs?: unknown[];
  finish?: string;
}

/** Rough size of one log-probability entry, for the capture's bound. */
const LOGPROB_CHARS = 64;

/**
 * Accumulates the parts of a streamed reply; `result()` gives the stored form once the stream ended cleanly. A reply larger
 * than the largest entry stored (`maxChars`, cache.max_entry_kb) is not kept: past it what was gathered is dropped and the
 * reply is not stored, so an upstream that streams without end does not grow memory while the client reads it.
 */
export class StreamCapture {
  private choices: ChoiceAcc[] = [];
  private meta: PartOf<'metadata'> | undefined;
  private usage: Usage | undefined;
  private ended = false;
  private broken = false;
  /** Characters gathered so far (texts, tool names and arguments, log-probabilities at LOGPROB_CHARS each). */
  private size = 0;

  constructor(private readonly op: Operation, private readonly maxChars: number = MAX_REPLY_BODY) {}

  private acc(choice: number): ChoiceAcc {
    return (this.choices[choice] ??= { text: '', tools: [] });
  }

  onPart(part: StreamPart): void {
    if (this.broken) return;
    switch (part.type) {
      case 'done': this.ended = true; return;
      case 'error': this.broken = true; return;
      case 'metadata': this.meta ??= part; return;
      case 'usage': this.usage = usageOf(part.usage) ?? this.usage; return;
      case 'text-delta': {
        const acc = this.acc(part.choice);
        if (this.op === 'chat') acc.content = (acc.content ?? '') + part.text;
        else acc.text += part.text;
        const lp = part.logprobs?.content;
        if (Array.isArray(lp)) {
          // One at a time: spread into push(), a chunk of 120 000 entries or more would overflow the call stack.
          const all = (acc.logprobs ??= []);
          for (const entry of lp) all.push(entry);
        }
        return this.grew(part.text.length + (Array.isArray(lp) ? lp.length * LOGPROB_CHARS : 0));
      }
      case 'refusal-delta': {
        const acc = this.acc(part.choice);
        acc.refusal = (acc.refusal ?? '') + part.text;
        return this.grew(part.text.length);
      }
      case 'tool-call-start': {
        const t = (this.acc(part.choice).tools[part.index] ??= { name: '', args: '' });
        if (part.id !== '') t.id = part.id;
        t.name += part.name;
        return this.grew(part.id.length + part.name.length);
      }
      case 'tool-call-delta':
        (this.acc(part.choice).tools[part.index] ??= { name: '', args: '' }).args += part.argsDelta;
        return this.grew(part.argsDelta.length);
      case 'finish':
        this.acc(part.choice).finish = part.reason;
        return;
      default:
        return;
    }
  }

  /** Counts `chars` more gathered; past the bound the reply is given up (not stored) and what was gathered is let go. */
  private grew(chars: number): void {
    this.size += chars;
    if (this.size <= this.maxChars) return;
    this.broken = true;
    this.choices = [];
  }

  /**
   * The assembled reply, or undefined unless the stream ended with done, carried no error, stayed within the bound and
   * every choice finished.
   */
  result(): CachedReply | undefined {
    if (!this.ended || this.broken || this.choices.length === 0) return undefined;
    for (let i = 0; i < this.choices.length; i++) if (this.choices[i]?.finish === undefined) return undefined;
    const m = this.meta;
    const chat = this.op === 'chat';
    const choices = this.choices.map((c, index) => {
      if (!chat) return { index, text: c.text, logprobs: null, finish_reason: c.finish };
      const message: Record<string, unknown> = { role: 'assistant', content: c.content ?? null };
      if (c.refusal !== undefined) message.refusal = c.refusal;
      if (c.tools.length > 0) {
        message.tool_calls = c.tools.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.args } }));
      }
      return { index, message, logprobs: c.logprobs ? { content: c.logprobs } : null, finish_reason: c.finish };
    });
    const body: Record<string, unknown> = {
      id: m?.id, object: chat ? 'chat.completion' : 'text_completion', created: m?.created, model: m?.model, choices,
    };
    if (m?.systemFingerprint !== undefined) body.system_fingerprint = m.systemFingerprint;
    if (this.usage) body.usage = this.usage;
    return storedReply(this.op, Buffer.from(JSON.stringify(body)), this.usage, m?.model);
  }
}

/**
 * The JSON reply for a hit on a non-streaming request: the stored bytes as they are, the body parsed only when a stage reads
 * it (a translating door, an output check), and then once.
 */
export function jsonReplyOf(cached: CachedReply): JsonReply {
  let body: Record<string, unknown> | undefined;
  return { kind: 'json', status: 200, get body() { return (body ??= cached.body); }, raw: cached.raw };
}

/** The parts that replay a cached reply to a streaming request, ending with done. */
export function replayParts(cached: CachedReply, includeUsage: boolean): StreamPart[] {
  const b = cached.body;
  const chat = cached.op === 'chat';
  const meta: PartOf<'metadata'> = {
    type: 'metadata', id: String(b.id ?? ''), model: String(b.model ?? ''), created: typeof b.created === 'number' ? b.created : 0,
  };
  if (typeof b.system_fingerprint === 'string') meta.systemFingerprint = b.system_fingerprint;
  const parts: StreamPart[] = [meta];
  const choices = (b.choices ?? []) as Array<Record<string, unknown>>;
  for (const c of choices) {
    const choice = c.index as number;
    if (!chat) {
      parts.push({ type: 'text-delta', choice, text: (c.text as string) ?? '' });
      continue;
    }
    const msg = (c.message ?? {}) as Record<string, unknown>;
    parts.push({ type: 'text-delta', choice, text: '' });
    if (typeof msg.content === 'string' && msg.content !== '') {
      const lp = c.logprobs as Record<string, unknown> | null | undefined;
      parts.push(lp ? { type: 'text-delta', choice, text: msg.content, logprobs: lp } : { type: 'text-delta', choice, text: msg.content });
    }
    if (typeof msg.refusal === 'string') parts.push({ type: 'refusal-delta', choice, text: msg.refusal });
    const tools = msg.tool_calls as Array<{ id?: unknown; function?: { name?: unknown; arguments?: unknown } }> | undefined;
    if (Array.isArray(tools)) {
      tools.forEach((t, index) => {
        parts.push({ type: 'tool-call-start', choice, index, id: typeof t.id === 'string' ? t.id : '', name: String(t.function?.name ?? '') });
        const args = t.function?.arguments;
        if (typeof args === 'string' && args !== '') parts.push({ type: 'tool-call-delta', choice, index, argsDelta: args });
        parts.push({ type: 'tool-call-end', choice, index });
      });
    }
  }
  for (const c of choices) parts.push({ type: 'finish', choice: c.index as number, reason: c.finish_reason as string });
  if (includeUsage && cached.usage) parts.push({ type: 'usage', usage: cached.usage });
  parts.push({ type: 'done' });
  return parts;
}

/** Approximate bytes held by a reply in memory: its text and the records. */
export const replyBytes = (r: CachedReply): number => r.size + 120;
