/**
 * Simulated OpenAI legacy completions and embeddings. Completions echo the prompt; embeddings are deterministic unit
 * vectors derived from a hash of each input (float arrays, or base64 float32 as the official SDK asks by default).
 */
import { sseData, SSE_DONE } from '../providers/sse.js';
import { invalid, type SimCall } from './openai-chat.js';
import { limitText, logprobOf, makeId, pieces, unitVector, wordCount } from './text.js';
import type { SimReply } from './types.js';

type Obj = Record<string, unknown>;

function completionLogprobs(tokens: string[], top: number): Obj {
  let offset = 0;
  const textOffset: number[] = [];
  for (const t of tokens) {
    textOffset.push(offset);
    offset += t.length;
  }
  return {
    tokens,
    token_logprobs: tokens.map(logprobOf),
    top_logprobs: tokens.map((t) => Object.fromEntries(Array.from({ length: Math.max(1, top) }, (_, k) => [k === 0 ? t : `${t}~${k}`, logprobOf(t) - k]))),
    text_offset: textOffset,
  };
}

export function simulateCompletion(call: SimCall, body: Obj): SimReply | ReturnType<typeof invalid> {
  const prompt = body.prompt;
  const prompts = typeof prompt === 'string' ? [prompt] : Array.isArray(prompt) && prompt.every((p) => typeof p === 'string') ? (prompt as string[]) : undefined;
  if (prompts === undefined || prompts.length === 0) return invalid("'prompt' must be a string or an array of strings", 'prompt');
  const n = body.n === undefined || body.n === null ? 1 : Number(body.n);
  if (!Number.isInteger(n) || n < 1 || n > 128) return invalid("'n' must be an integer from 1 to 128", 'n');
  const top = typeof body.logprobs === 'number' ? body.logprobs : undefined;
  const choices: Array<{ text: string; finish: string; tokens: string[] }> = [];
  for (const p of prompts) {
    for (let i = 0; i < n; i++) {
      const limited = limitText(`[${call.name}] ${p}`, body.stop, body.max_tokens ?? 16);
      choices.push({ text: limited.text, finish: limited.reason === 'length' ? 'length' : 'stop', tokens: limited.text === '' ? [] : pieces(limited.text) });
    }
  }
  const promptTokens = prompts.reduce((s, p) => s + wordCount(p), 0);
  const completion = choices.reduce((s, c) => s + c.tokens.length, 0);
  const usage = { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
  const head = { id: makeId('cmpl-', call.name, call.seq, 29), object: 'text_completion', created: Math.floor(Date.now() / 1000), model: call.model };
  if (body.stream !== true) {
    return {
      kind: 'json', status: 200,
      body: {
        ...head,
        choices: choices.map((c, index) => ({ text: c.text, index, logprobs: top === undefined ? null : completionLogprobs(c.tokens, top), finish_reason: c.finish })),
        usage, system_fingerprint: 'fp_switchyard_sim',
      },
    };
  }
  const includeUsage = (body.stream_options as Obj | undefined)?.include_usage === true;
  const frames: string[] = [];
  const frame = (index: number, text: string, finish: string | null, tokens: string[]): string =>
    sseData(JSON.stringify({
      ...head,
      choices: [{ text, index, logprobs: top === undefined || tokens.length === 0 ? null : completionLogprobs(tokens, top), finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    }));
  choices.forEach((c, index) => {
    for (const t of c.tokens) frames.push(frame(index, t, null, [t]));
    frames.push(frame(index, '', c.finish, []));
  });
  if (includeUsage) frames.push(sseData(JSON.stringify({ ...head, choices: [], usage })));
  frames.push(SSE_DONE);
  const errorFrame = sseData(JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: 'server_error' } }));
  return { kind: 'stream', frames, errorFrame };
}

export function simulateEmbedding(call: SimCall, body: Obj): SimReply | ReturnType<typeof invalid> {
  const input = body.input;
  let inputs: string[];
  if (typeof input === 'string') inputs = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string')) inputs = input as string[];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'number')) inputs = [JSON.stringify(input)];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => Array.isArray(x))) inputs = input.map((x) => JSON.stringify(x));
  else return invalid("'input' must be a string, an array of strings, or token arrays", 'input');
  if (inputs.some((s) => s === '')) return invalid("'input' cannot contain an empty string", 'input');
  const dims = body.dimensions === undefined ? 8 : Number(body.dimensions);
  if (!Number.isInteger(dims) || dims < 1 || dims > 4096) return invalid("'dimensions' must be an integer from 1 to 4096", 'dimensions');
  const base64 = body.encoding_format === 'base64';
  const data = inputs.map((text, index) => {
    const v = unitVector(text, dims);
    return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v };
  });
  const tokens = inputs.reduce((s, t) => s + Math.max(1, wordCount(t)), 0);
  return { kind: 'json', status: 200, body: { object: 'list', data, model: call.model, usage: { prompt_tokens: tokens, total_tokens: tokens } } };
}
