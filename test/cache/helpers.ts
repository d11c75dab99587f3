/** Test helpers: request contexts, a stand-in embedder (hashed bag of words), replies. */
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { ANONYMOUS, type Caller, type RequestContext } from '../../src/pipeline/context.js';
import type { Chunk } from '../../src/providers/openai/openai-api.js';
import { partsOfChunks } from '../helpers/stream-parts.js';
import type { JsonReply, StreamPart } from '../../src/providers/types.js';

export const logger = pino({ level: 'silent' });
export const DIM = 64;

/** Hashed bag-of-words unit vector: texts sharing words are similar, disjoint texts are not. */
export function standInEmbed(text: string): Float32Array {
  const v = new Float32Array(DIM);
  for (const w of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const h = createHash('md5').update(w).digest();
    v[h[0] % DIM] += 1;
    v[h[1] % DIM] += 0.5;
  }
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < DIM; i++) v[i] /= n;
  return v;
}

export function lastUserText(ctx: RequestContext): string {
  const msgs = ctx.body.messages as Array<{ role: string; content: string }> | undefined;
  return msgs ? msgs[msgs.length - 1].content : String(ctx.body.prompt);
}

export const embedCtx = async (ctx: RequestContext): Promise<Float32Array> => standInEmbed(lastUserText(ctx));

let seq = 0;
export function chatCtx(opts: {
  text?: string; body?: Record<string, unknown>; model?: string; caller?: Partial<Caller>; stream?: boolean;
  headers?: Record<string, string>; system?: string;
} = {}): RequestContext {
  const messages = [
    ...(opts.system ? [{ role: 'system', content: opts.system }] : []),
    { role: 'user', content: opts.text ?? 'What is the capital of France?' },
  ];
  const model = opts.model ?? 'gpt-test';
  const stream = opts.stream ?? false;
  return {
    id: `req-${++seq}`, startedAt: performance.now(), op: 'chat', protocol: 'openai.chat', requestType: stream ? 'chat_completion_stream' : 'chat_completion',
    body: { model, messages, ...(stream ? { stream: true } : {}), ...opts.body }, model, stream,
    headers: opts.headers ?? {}, caller: { ...ANONYMOUS, virtualKeyId: 'vk1', ...opts.caller }, signal: new AbortController().signal,
    attempts: [], warnings: [], replyHeaders: {}, facts: {},
  };
}

export function jsonReply(content: string, usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }): JsonReply {
  const body = {
    id: 'chatcmpl-1', object: 'chat.completion', created: 1700000000, model: 'gpt-test',
    choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }], usage,
  };
  return { kind: 'json', status: 200, body, usage };
}

const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): Chunk =>
  ({ id: 'chatcmpl-s', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-test', choices, ...extra } as Chunk);

/** The parts of a streamed answer "Hello world" with a tool call, a finish reason and usage. */
export function streamParts(opts: { done?: boolean; error?: boolean; finish?: boolean } = {}): StreamPart[] {
  const chunks: Chunk[] = [
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
    chunk([{ index: 0, delta: { content: 'Hello' }, finish_reason: null }]),
    chunk([{ index: 0, delta: { content: ' world' }, finish_reason: null }]),
    chunk([{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":' } }] }, finish_reason: null }]),
    chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] }, finish_reason: null }]),
  ];
  if (opts.finish !== false) chunks.push(chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]));
  chunks.push(chunk([], { usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } }));
  const parts = partsOfChunks(chunks);
  if (opts.error) parts.push({ type: 'error', failure: { message: 'upstream broke', type: 'upstream_error', code: null } });
  else if (opts.done !== false) parts.push({ type: 'done' });
  return parts;
}

export async function* iterate(parts: StreamPart[]): AsyncGenerator<StreamPart> { yield* parts; }

export async function collect(parts: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const out: StreamPart[] = [];
  for await (const p of parts) out.push(p);
  return out;
}
