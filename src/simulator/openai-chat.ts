/**
 * Simulated OpenAI chat completions: deterministic echo replies, tool calls, n choices, logprobs, JSON mode, stop and
 * token limits, and streaming with `stream_options.include_usage`. Shared by the openai and azure protocols.
 */
import { sseData, SSE_DONE } from '../providers/sse.js';
import type { SimReply } from './types.js';
import { contentText, limitText, logprobOf, makeId, pieces, wordCount } from './text.js';

export interface SimCall {
  name: string;
  /** Request sequence number, for deterministic ids. */
  seq: number;
  /** The model to report. */
  model: string;
  /** Azure streams open with a prompt_filter_results chunk that has no choices. */
  azure?: boolean;
}

type Obj = Record<string, unknown>;
type Choice = { content: string | null; toolCall?: { id: string; name: string }; finish: 'stop' | 'length' | 'tool_calls'; tokens: string[] };

export const invalid = (message: string, param: string | null = null): { status: number; message: string; param: string | null } =>
  ({ status: 400, message, param });

export function lastUserText(messages: unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as Obj | null;
    if (m && m.role === 'user') return contentText(m.content);
  }
  return '';
}

function promptTokens(messages: unknown[]): number {
  let n = 0;
  for (const m of messages) n += wordCount(contentText((m as Obj | null)?.content));
  return n;
}

/** The tool the request forces, if it forces one. */
function forcedTool(body: Obj): string | undefined {
  const tools = Array.isArray(body.tools) ? (body.tools as Obj[]) : [];
  if (tools.length === 0) return undefined;
  const choice = body.tool_choice as Obj | string | undefined;
  if (choice === 'required') return String((tools[0].function as Obj | undefined)?.name ?? 'tool');
  if (choice && typeof choice === 'object' && choice.type === 'function') return String((choice.function as Obj | undefined)?.name ?? 'tool');
  return undefined;
}

function logprobsContent(tokens: string[], top: number): Obj[] {
  return tokens.map((token) => ({
    token,
    logprob: logprobOf(token),
    bytes: [...Buffer.from(token)],
    top_logprobs: Array.from({ length: top }, (_, k) => {
      const t = k === 0 ? token : `${token}~${k}`;
      return { token: t, logprob: k === 0 ? logprobOf(token) : logprobOf(token) - k, bytes: [...Buffer.from(t)] };
    }),
  }));
}

export function simulateChat(call: SimCall, body: Obj): SimReply | ReturnType<typeof invalid> {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return invalid("'messages' must be a non-empty array", 'messages');
  const n = body.n === undefined || body.n === null ? 1 : Number(body.n);
  if (!Number.isInteger(n) || n < 1 || n > 128) return invalid("'n' must be an integer from 1 to 128", 'n');
  const wantLogprobs = body.logprobs === true;
  const top = typeof body.top_logprobs === 'number' ? body.top_logprobs : 0;
  const format = (body.response_format as Obj | undefined)?.type;
  const echo = `[${call.name}] ${lastUserText(messages)}`;
  const text = format === 'json_object' || format === 'json_schema' ? JSON.stringify({ reply: echo }) : echo;
  const tool = forcedTool(body);
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;

  const choices: Choice[] = [];
  for (let i = 0; i < n; i++) {
    if (tool !== undefined) {
      choices.push({ content: null, toolCall: { id: makeId('call_', call.name, call.seq * 128 + i), name: tool }, finish: 'tool_calls', tokens: ['{}'] });
    } else {
      const limited = limitText(text, body.stop, maxTokens);
      const tokens = limited.text === '' ? [] : pieces(limited.text);
      choices.push({ content: limited.text, finish: limited.reason === 'length' ? 'length' : 'stop', tokens });
    }
  }
  const prompt = promptTokens(messages);
  const completion = choices.reduce((s, c) => s + c.tokens.length, 0);
  const usage = {
    prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
  const id = makeId('chatcmpl-', call.name, call.seq, 29);
  const created = Math.floor(Date.now() / 1000);
  const head = { id, object: 'chat.completion', created, model: call.model };

  if (body.stream !== true) {
    return {
      kind: 'json', status: 200,
      body: {
        ...head,
        choices: choices.map((c, index) => ({
          index,
          message: {
            role: 'assistant', content: c.content, refusal: null, annotations: [],
            ...(c.toolCall ? { tool_calls: [{ id: c.toolCall.id, type: 'function', function: { name: c.toolCall.name, arguments: '{}' } }] } : {}),
          },
          logprobs: wantLogprobs ? { content: logprobsContent(c.tokens, top), refusal: null } : null,
          finish_reason: c.finish,
        })),
        usage, service_tier: 'default', system_fingerprint: 'fp_switchyard_sim',
      },
    };
  }

  const includeUsage = (body.stream_options as Obj | undefined)?.include_usage === true;
  const chunkHead = { id, object: 'chat.completion.chunk', created, model: call.model, service_tier: 'default', system_fingerprint: 'fp_switchyard_sim' };
  const frame = (index: number, delta: Obj, finish: string | null, logprobs: Obj | null = null): string =>
    sseData(JSON.stringify({ ...chunkHead, choices: [{ index, delta, logprobs, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}) }));
  const frames: string[] = [];
  if (call.azure) {
    frames.push(sseData(JSON.stringify({
      choices: [], created: 0, id: '', model: '', object: '',
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: 'safe' } } }],
    })));
  }
  choices.forEach((c, index) => {
    frames.push(frame(index, { role: 'assistant', content: c.toolCall ? null : '', refusal: null }, null));
    if (c.toolCall) {
      frames.push(frame(index, { tool_calls: [{ index: 0, id: c.toolCall.id, type: 'function', function: { name: c.toolCall.name, arguments: '' } }] }, null));
      frames.push(frame(index, { tool_calls: [{ index: 0, function: { arguments: '{}' } }] }, null));
    } else {
      for (const token of c.tokens) {
        frames.push(frame(index, { content: token }, null, wantLogprobs ? { content: logprobsContent([token], top), refusal: null } : null));
      }
    }
    frames.push(frame(index, {}, c.finish));
  });
  if (includeUsage) frames.push(sseData(JSON.stringify({ ...chunkHead, choices: [], usage })));
  frames.push(SSE_DONE);
  const errorFrame = sseData(JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: 'server_error' } }));
  return { kind: 'stream', frames, errorFrame };
}
