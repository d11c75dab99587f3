/**
 * The Anthropic Messages protocol: `POST /v1/messages` (x-api-key, anthropic-version required), `GET /v1/models`,
 * Anthropic's error shape, and the SSE event sequence Anthropic sends (message_start, content_block_*, ping,
 * message_delta, message_stop; `error` events in-band).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { contentText, limitText, makeId, pieces, wordCount } from './text.js';
import type { ProtocolHandler, SimReply } from './types.js';

type Obj = Record<string, unknown>;

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error',
};

export function anthropicErrorBody(status: number, message: string): Obj {
  return { type: 'error', error: { type: TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message } };
}

export const DEFAULT_ANTHROPIC_MODELS = ['claude-3-5-haiku-latest', 'claude-sonnet-4-5'];

const event = (type: string, data: Obj): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/** Validates what the real API rejects; returns the message of the first problem. */
function validate(body: Obj, served: Set<string> | undefined): { status: number; message: string } | undefined {
  if (typeof body.model !== 'string' || body.model === '') return { status: 400, message: 'model: Field required' };
  if (served !== undefined && !served.has(body.model)) return { status: 404, message: `model: ${body.model}` };
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) return { status: 400, message: 'max_tokens: Field required' };
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return { status: 400, message: 'messages: at least one message is required' };
  if (body.system !== undefined && typeof body.system !== 'string' && !Array.isArray(body.system)) {
    return { status: 400, message: 'system: Input should be a valid string or list of text blocks' };
  }
  let previousToolUses = new Set<string>();
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Obj | null;
    if (!m || (m.role !== 'user' && m.role !== 'assistant')) {
      return { status: 400, message: `messages.${i}.role: Input should be 'user' or 'assistant'` };
    }
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) return { status: 400, message: `messages.${i}.content: Field required` };
    const blocks = Array.isArray(m.content) ? (m.content as Obj[]) : [];
    const toolUses = new Set<string>();
    for (let j = 0; j < blocks.length; j++) {
      const b = blocks[j];
      if (b.type === 'tool_use') toolUses.add(String(b.id));
      if (b.type === 'tool_result' && !previousToolUses.has(String(b.tool_use_id))) {
        return { status: 400, message: `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(b.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.` };
      }
      if (b.type === 'image') {
        const src = b.source as Obj | undefined;
        if (!src || (src.type !== 'base64' && src.type !== 'url')) return { status: 400, message: `messages.${i}.content.${j}.image.source: invalid` };
      }
    }
    previousToolUses = toolUses;
  }
  const choice = body.tool_choice as Obj | undefined;
  if (choice !== undefined && !['auto', 'any', 'tool', 'none'].includes(String(choice.type))) {
    return { status: 400, message: 'tool_choice.type: Input should be auto, any, tool or none' };
  }
  if (choice?.type === 'tool' && typeof choice.name !== 'string') return { status: 400, message: 'tool_choice.name: Field required' };
  return undefined;
}

function forcedTool(body: Obj): string | undefined {
  const tools = Array.isArray(body.tools) ? (body.tools as Obj[]) : [];
  const choice = body.tool_choice as Obj | undefined;
  if (tools.length === 0 || choice === undefined) return undefined;
  if (choice.type === 'any') return String(tools[0].name);
  if (choice.type === 'tool') return String(choice.name);
  return undefined;
}

export function simulateMessages(name: string, seq: number, body: Obj): SimReply {
  const messages = body.messages as Obj[];
  let lastUser = '';
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user') {
      lastUser = contentText(messages[i].content);
      break;
    }
  }
  let inputTokens = wordCount(contentText(body.system));
  for (const m of messages) inputTokens += wordCount(contentText(m.content));
  const model = body.model as string;
  const id = makeId('msg_01', name, seq, 22);
  const tool = forcedTool(body);
  let content: Obj[];
  let stopReason: string;
  let stopSequence: string | null = null;
  let tokens: string[];
  if (tool !== undefined) {
    content = [{ type: 'tool_use', id: makeId('toolu_01', name, seq, 22), name: tool, input: {} }];
    stopReason = 'tool_use';
    tokens = ['{', '}'];
  } else {
    const limited = limitText(`[${name}] ${lastUser}`, body.stop_sequences, body.max_tokens);
    content = [{ type: 'text', text: limited.text }];
    stopReason = limited.reason === 'length' ? 'max_tokens' : limited.reason === 'stop_sequence' ? 'stop_sequence' : 'end_turn';
    stopSequence = limited.stopSequence;
    tokens = limited.text === '' ? [] : pieces(limited.text);
  }
  const outputTokens = tokens.length;
  const usage = { input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  if (body.stream !== true) {
    return { kind: 'json', status: 200, body: { id, type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: stopSequence, usage } };
  }
  const frames: string[] = [
    event('message_start', {
      message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
    }),
  ];
  const block = content[0];
  if (block.type === 'tool_use') {
    frames.push(event('content_block_start', { index: 0, content_block: { ...block, input: {} } }));
    frames.push(event('ping', {}));
    for (const t of tokens) frames.push(event('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: t } }));
  } else {
    frames.push(event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    frames.push(event('ping', {}));
    for (const t of tokens) frames.push(event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: t } }));
  }
  frames.push(event('content_block_stop', { index: 0 }));
  frames.push(event('message_delta', { delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage: { output_tokens: outputTokens } }));
  frames.push(event('message_stop', {}));
  return { kind: 'stream', frames, errorFrame: event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }) };
}

export function createAnthropicHandler(name: string, models: readonly string[] | undefined): ProtocolHandler {
  let seq = 0;
  const served = models === undefined ? undefined : new Set(models);
  const list = models ?? DEFAULT_ANTHROPIC_MODELS;
  return {
    basePath: '/v1',
    keyOf(headers: IncomingHttpHeaders): string | undefined {
      const key = headers['x-api-key'];
      return typeof key === 'string' ? key : undefined;
    },
    errorBody: anthropicErrorBody,
    handle(method, url, body, headers): SimReply {
      if (method === 'GET' && url.pathname === '/v1/models') {
        const data = list.map((id) => ({ type: 'model', id, display_name: id, created_at: '2024-10-22T00:00:00Z' }));
        return { kind: 'json', status: 200, body: { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null } };
      }
      if (method !== 'POST' || url.pathname !== '/v1/messages') return { kind: 'json', status: 404, body: anthropicErrorBody(404, 'Not found') };
      if (typeof headers['anthropic-version'] !== 'string') {
        return { kind: 'json', status: 400, body: anthropicErrorBody(400, 'anthropic-version: header is required') };
      }
      if (body === undefined) return { kind: 'json', status: 400, body: anthropicErrorBody(400, 'The request body must be a JSON object.') };
      const problem = validate(body, served);
      if (problem !== undefined) return { kind: 'json', status: problem.status, body: anthropicErrorBody(problem.status, problem.message) };
      return simulateMessages(name, ++seq, body);
    },
  };
}
