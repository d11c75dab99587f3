/**
 * Cached replies: one stored form (the OpenAI JSON body plus its serialised bytes) shared by streamed and non-streamed
 * requests. A captured stream is assembled into that body (content, refusal, tool calls, logprobs, finish reasons, usage);
 * a hit is served as the JSON reply or replayed as well-formed chunk parts.
 */
import type { Chunk, JsonReply, Operation, StreamPart, Usage } from '../providers/types.js';

export interface CachedReply {
  readonly op: Operation;
  /** The OpenAI-format response body (chat.completion, text_completion or list of embeddings). */
  readonly body: Record<string, unknown>;
  /** `body` serialised once, sent as-is on a JSON hit. */
  readonly raw: Buffer;
  readonly usage: Usage | undefined;
}

function usageOf(v: unknown): Usage | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const u = v as Partial<Usage>;
  return typeof u.prompt_tokens === 'number' && typeof u.total_tokens === 'number'
    ? { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens ?? 0, total_tokens: u.total_tokens }
    : undefined;
}

/** A complete, successful JSON reply in a storable form, or undefined when it must not be stored. */
export function fromJsonReply(op: Operation, reply: JsonReply): CachedReply | undefined {
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
  return { op, body, raw, usage: reply.usage ?? usageOf(body.usage) };
}

interface ToolCallAcc { id?: string; type?: string; name: string; args: string }
interface ChoiceAcc {
  role?: string;
  content?: string;
  refusal?: string;
  text: string;
  tools: ToolCallAcc[];
  logprobs?: unknown[];
  finish?: string;
}

/** Accumulates the parts of a streamed reply; `result()` gives the stored form once the stream ended cleanly. */
export class StreamCapture {
  private readonly choices: ChoiceAcc[] = [];
  private meta: Chunk | undefined;
  private usage: Usage | undefined;
  private ended = false;
  private broken = false;

  constructor(private readonly op: Operation) {}

  onPart(part: StreamPart): void {
    if (part.type === 'done') { this.ended = true; return; }
    if (part.type === 'error') { this.broken = true; return; }
    const chunk = part.chunk;
    this.meta ??= chunk;
    const u = usageOf(chunk.usage);
    if (u) this.usage = u;
    if (!Array.isArray(chunk.choices)) return;
    for (const c of chunk.choices) {
      const i = typeof c.index === 'number' ? c.index : 0;
      const acc = (this.choices[i] ??= { text: '', tools: [] });
      if (typeof c.text === 'string') acc.text += c.text;
      const d = c.delta;
      if (d) {
        if (typeof d.role === 'string') acc.role = d.role;
        if (typeof d.content === 'string') acc.content = (acc.content ?? '') + d.content;
        if (typeof d.refusal === 'string') acc.refusal = (acc.refusal ?? '') + d.refusal;
        if (Array.isArray(d.tool_calls)) {
          for (const t of d.tool_calls as Array<Record<string, unknown>>) {
            const ti = typeof t.index === 'number' ? t.index : acc.tools.length;
            const ta = (acc.tools[ti] ??= { name: '', args: '' });
            if (typeof t.id === 'string') ta.id = t.id;
            if (typeof t.type === 'string') ta.type = t.type;
            const f = t.function as { name?: unknown; arguments?: unknown } | undefined;
            if (typeof f?.name === 'string') ta.name += f.name;
            if (typeof f?.arguments === 'string') ta.args += f.arguments;
          }
        }
      }
      const lp = (c as { logprobs?: { content?: unknown } | null }).logprobs;
      if (lp && Array.isArray(lp.content)) (acc.logprobs ??= []).push(...lp.content);
      if (typeof c.finish_reason === 'string') acc.finish = c.finish_reason;
    }
  }

  /** The assembled reply, or undefined unless the stream ended with done, carried no error and every choice finished. */
  result(): CachedReply | undefined {
    if (!this.ended || this.broken || this.choices.length === 0) return undefined;
    for (let i = 0; i < this.choices.length; i++) if (this.choices[i]?.finish === undefined) return undefined;
    const m = this.meta ?? {};
    const chat = this.op === 'chat';
    const choices = this.choices.map((c, index) => {
      if (!chat) return { index, text: c.text, logprobs: null, finish_reason: c.finish };
      const message: Record<string, unknown> = { role: c.role ?? 'assistant', content: c.content ?? null };
      if (c.refusal !== undefined) message.refusal = c.refusal;
      if (c.tools.length > 0) {
        message.tool_calls = c.tools.map((t) => ({ id: t.id, type: t.type ?? 'function', function: { name: t.name, arguments: t.args } }));
      }
      return { index, message, logprobs: c.logprobs ? { content: c.logprobs } : null, finish_reason: c.finish };
    });
    const body: Record<string, unknown> = {
      id: m.id, object: chat ? 'chat.completion' : 'text_completion', created: m.created, model: m.model, choices,
    };
    if (m.system_fingerprint !== undefined) body.system_fingerprint = m.system_fingerprint;
    if (this.usage) body.usage = this.usage;
    return { op: this.op, body, raw: Buffer.from(JSON.stringify(body)), usage: this.usage };
  }
}

/** The JSON reply for a hit on a non-streaming request. */
export function jsonReplyOf(cached: CachedReply): JsonReply {
  return { kind: 'json', status: 200, body: cached.body, raw: cached.raw };
}

/** The chunk parts that replay a cached reply to a streaming request, ending with done. */
export function replayParts(cached: CachedReply, includeUsage: boolean): StreamPart[] {
  const b = cached.body;
  const chat = cached.op === 'chat';
  const base = { id: b.id, object: chat ? 'chat.completion.chunk' : 'text_completion', created: b.created, model: b.model };
  const fp = b.system_fingerprint !== undefined ? { system_fingerprint: b.system_fingerprint } : {};
  const chunk = (choices: Chunk['choices']): StreamPart => ({ type: 'chunk', chunk: { ...base, ...fp, choices } as Chunk });
  const parts: StreamPart[] = [];
  const choices = (b.choices ?? []) as Array<Record<string, unknown>>;
  for (const c of choices) {
    const index = c.index as number;
    if (!chat) {
      parts.push(chunk([{ index, text: (c.text as string) ?? '', finish_reason: null }]));
      continue;
    }
    const msg = (c.message ?? {}) as Record<string, unknown>;
    parts.push(chunk([{ index, delta: { role: msg.role ?? 'assistant', content: '' }, finish_reason: null }]));
    if (typeof msg.content === 'string' && msg.content !== '') {
      const lp = c.logprobs as { content?: unknown } | null | undefined;
      const choice: Record<string, unknown> = { index, delta: { content: msg.content }, finish_reason: null };
      if (lp) choice.logprobs = lp;
      parts.push(chunk([choice as NonNullable<Chunk['choices']>[number]]));
    }
    if (typeof msg.refusal === 'string') parts.push(chunk([{ index, delta: { refusal: msg.refusal }, finish_reason: null }]));
    const tools = msg.tool_calls as Array<Record<string, unknown>> | undefined;
    if (Array.isArray(tools)) {
      tools.forEach((t, ti) => parts.push(chunk([{ index, delta: { tool_calls: [{ index: ti, ...t }] }, finish_reason: null }])));
    }
  }
  for (const c of choices) {
    parts.push(chunk([{ index: c.index as number, ...(chat ? { delta: {} } : { text: '' }), finish_reason: c.finish_reason as string }]));
  }
  if (includeUsage && cached.usage) parts.push({ type: 'chunk', chunk: { ...base, ...fp, choices: [], usage: cached.usage } as Chunk });
  parts.push({ type: 'done' });
  return parts;
}

/** Approximate bytes held by a reply in memory. */
export const replyBytes = (r: CachedReply): number => r.raw.length * 3 + 256;
