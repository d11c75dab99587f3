/**
 * An OpenAI chat completion request → an Anthropic Messages request, with warnings for every parameter that cannot be
 * honoured (never dropped silently) and a 400 for those whose loss would change the reply's shape (n > 1).
 */
import { invalidRequest, quoted } from '../../errors.js';
import { warningList } from '../../llm/warnings.js';
import type { AnthropicRequest } from './anthropic-api.js';
import { convertAnthropicTools } from './convert-anthropic-tools.js';
import { convertToAnthropicMessages } from './convert-to-anthropic-messages.js';

type Obj = Record<string, unknown>;

export interface AnthropicRequestOptions {
  model: string;
  stream: boolean;
  defaultMaxTokens: number;
}

/** Parameters translated or consumed here. */
const HANDLED = new Set([
  'model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'stream', 'stream_options',
  'tools', 'tool_choice', 'parallel_tool_calls', 'user', 'n', 'top_k', 'thinking',
]);

/** Values of otherwise unsupported parameters that ask for nothing and need no warning. */
function isNeutral(key: string, value: unknown): boolean {
  if (value === null || value === undefined) return true;
  switch (key) {
    case 'logprobs': return value === false;
    case 'response_format': return (value as Obj).type === 'text';
    case 'frequency_penalty':
    case 'presence_penalty': return value === 0;
    case 'store': return value === false;
    case 'logit_bias':
    case 'metadata': return typeof value === 'object' && Object.keys(value as object).length === 0;
    default: return false;
  }
}

function stopSequences(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  if (typeof stop === 'string') return stop === '' ? undefined : [stop];
  if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) return stop.length === 0 ? undefined : (stop as string[]);
  throw invalidRequest("'stop' must be a string or an array of strings", 'stop');
}

function positiveInt(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value) || (value as number) < 1) throw invalidRequest(`'${param}' must be a positive integer`, param);
  return value as number;
}

export function buildAnthropicRequest(body: Obj, opts: AnthropicRequestOptions): { request: AnthropicRequest; warnings: string[] } {
  const warnings = warningList();
  if (body.n !== undefined && body.n !== null && body.n !== 1) {
    throw invalidRequest("'n' greater than 1 is not supported by this provider", 'n', 'unsupported_parameter');
  }
  const { system, messages } = convertToAnthropicMessages(body.messages, warnings);
  const maxTokens = positiveInt(body.max_completion_tokens, 'max_completion_tokens') ?? positiveInt(body.max_tokens, 'max_tokens') ?? opts.defaultMaxTokens;
  const request: AnthropicRequest = { model: opts.model, messages, max_tokens: maxTokens };
  if (system !== undefined) request.system = system;
  const stop = stopSequences(body.stop);
  if (stop !== undefined) request.stop_sequences = stop;
  if (typeof body.temperature === 'number') {
    if (body.temperature > 1) {
      warnings.push(`temperature ${body.temperature} is above anthropic's maximum of 1 and was sent as 1`);
      request.temperature = 1;
    } else {
      request.temperature = body.temperature;
    }
  }
  if (typeof body.top_p === 'number') request.top_p = body.top_p;
  // Extension fields with no OpenAI equivalent (the Messages edge carries them; OpenAI-compatible servers such as vLLM read top_k).
  if (Number.isInteger(body.top_k) && (body.top_k as number) >= 0) request.top_k = body.top_k as number;
  const thinking = body.thinking;
  if (thinking !== null && typeof thinking === 'object' && !Array.isArray(thinking) && typeof (thinking as Obj).type === 'string') request.thinking = thinking as Obj;
  const { tools, tool_choice } = convertAnthropicTools(body, warnings);
  if (tools !== undefined) request.tools = tools;
  if (tool_choice !== undefined) request.tool_choice = tool_choice;
  if (typeof body.user === 'string' && body.user !== '') request.metadata = { user_id: body.user };
  if (opts.stream) request.stream = true;
  for (const key of Object.keys(body)) {
    if (HANDLED.has(key) || isNeutral(key, body[key])) continue;
    warnings.push(key === 'response_format'
      ? `response_format '${quoted((body[key] as Obj).type)}' is not supported by anthropic and was ignored`
      : `parameter '${key}' is not supported by anthropic and was ignored`);
  }
  return { request, warnings: Array.from(warnings) };
}
