/**
 * OpenAI chat messages → Anthropic `system` + `messages`. System and developer messages become the system prompt; user and
 * assistant turns keep their order with consecutive same-role turns merged; tool messages become tool_result blocks in a
 * user turn; assistant tool_calls become tool_use blocks; image_url parts become image blocks (base64 data URLs or URLs).
 */
import { invalidRequest, quoted } from '../../errors.js';
import { readJsonText } from '../../util/json-text-shape.js';
import type {
  AnthropicContentBlock, AnthropicImageBlock, AnthropicMessage, AnthropicTextBlock, AnthropicDocumentBlock,
} from './anthropic-api.js';

type Obj = Record<string, unknown>;

export interface ConvertedMessages {
  system?: string | AnthropicTextBlock[];
  messages: AnthropicMessage[];
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;
/**
 * Deepest nesting of a tool call's arguments once parsed into a `tool_use` input (as deep as the request body itself may
 * nest by default, server.limits.max_depth): the arguments are text, bounded in length only.
 */
const MAX_ARGUMENT_DEPTH = 64;
/**
 * Most values in the tool calls' arguments of one request, all together (as many as the request body itself may hold by
 * default, server.limits.max_values): values inside a string escape the body's count, and each is parsed and serialised.
 */
const MAX_ARGUMENT_VALUES = 500_000;

function imageBlock(part: Obj, param: string): AnthropicImageBlock {
  const image = part.image_url as Obj | string | undefined;
  const url = typeof image === 'string' ? image : image?.url;
  if (typeof url !== 'string' || url === '') throw invalidRequest('image_url.url is required', param);
  const m = DATA_URL.exec(url);
  if (m !== null) return { type: 'image', source: { type: 'base64', media_type: m[1], data: m[2] } };
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalidRequest('image_url.url must be an http(s) URL or a base64 data URL', param);
}

function fileBlock(part: Obj, param: string): AnthropicDocumentBlock {
  const data = (part.file as Obj | undefined)?.file_data;
  const m = typeof data === 'string' ? DATA_URL.exec(data) : null;
  if (m === null) throw invalidRequest('file parts need file.file_data as a base64 data URL for this provider', param);
  return { type: 'document', source: { type: 'base64', media_type: m[1], data: m[2] } };
}

/** Content of a user/assistant/tool message → Anthropic blocks (strings stay strings when there is nothing else). */
function contentBlocks(content: unknown, param: string, allowMedia: boolean): AnthropicContentBlock[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalidRequest('content must be a string or an array of content parts', param);
  const blocks: AnthropicContentBlock[] = [];
  content.forEach((raw, j) => {
    const part = (raw ?? {}) as Obj;
    const at = `${param}[${j}]`;
    switch (part.type) {
      case 'text':
      case 'refusal': {
        const text = part.type === 'text' ? part.text : part.refusal;
        if (typeof text !== 'string') throw invalidRequest(`${quoted(part.type)} part needs a string`, at);
        if (text !== '') blocks.push({ type: 'text', text });
        break;
      }
      case 'image_url':
        if (!allowMedia) throw invalidRequest('image parts are only allowed in user messages', at);
        blocks.push(imageBlock(part, at));
        break;
      case 'file':
        if (!allowMedia) throw invalidRequest('file parts are only allowed in user messages', at);
        blocks.push(fileBlock(part, at));
        break;
      default:
        throw invalidRequest(`content part type '${quoted(part.type)}' is not supported by this provider`, at);
    }
  });
  return blocks;
}

function textOnly(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  return contentBlocks(content, param, false).map((b) => (b as AnthropicTextBlock).text).join('\n');
}

/**
 * Reads every assistant tool call's arguments before any of them is parsed: one nested deeper than MAX_ARGUMENT_DEPTH, or
 * more than MAX_ARGUMENT_VALUES values in all of them, is refused at once, naming the argument.
 */
function checkArguments(messages: readonly unknown[]): void {
  let values = 0;
  messages.forEach((raw, i) => {
    const m = (raw ?? {}) as Obj;
    if (m.role !== 'assistant' || !Array.isArray(m.tool_calls)) return;
    m.tool_calls.forEach((call: unknown, j) => {
      const args = (((call ?? {}) as Obj).function as Obj | null | undefined)?.arguments;
      if (typeof args !== 'string') return;
      const at = `messages[${i}].tool_calls[${j}].function.arguments`;
      const shape = readJsonText(args, { depth: MAX_ARGUMENT_DEPTH });
      if (shape.over === 'depth') throw invalidRequest(`tool call arguments must not nest more than ${MAX_ARGUMENT_DEPTH} levels deep`, at, 'nesting_too_deep');
      values += shape.commas + 1;
      if (values > MAX_ARGUMENT_VALUES) throw invalidRequest(`tool call arguments must hold at most ${MAX_ARGUMENT_VALUES} values in all`, at, 'too_many_values');
    });
  });
}

function toolUseBlocks(toolCalls: unknown, param: string): AnthropicContentBlock[] {
  if (!Array.isArray(toolCalls)) return [];
  return toolCalls.map((raw, j) => {
    const call = (raw ?? {}) as Obj;
    const fn = (call.function ?? {}) as Obj;
    const at = `${param}.tool_calls[${j}]`;
    if (typeof call.id !== 'string' || typeof fn.name !== 'string') throw invalidRequest('tool calls need an id and a function name', at);
    let input: unknown = {};
    if (typeof fn.arguments === 'string' && fn.arguments.trim() !== '') {
      try {
        input = JSON.parse(fn.arguments);
      } catch {
        throw invalidRequest('tool call arguments must be a JSON object', `${at}.function.arguments`);
      }
    }
    return { type: 'tool_use', id: call.id, name: fn.name, input };
  });
}

export function convertToAnthropicMessages(messages: unknown, warnings: string[]): ConvertedMessages {
  if (!Array.isArray(messages) || messages.length === 0) throw invalidRequest("'messages' must be a non-empty array", 'messages');
  const system: string[] = [];
  const out: AnthropicMessage[] = [];
  let seenTurn = false;
  let namesIgnored = false;
  checkArguments(messages);

  const push = (role: 'user' | 'assistant', blocks: AnthropicContentBlock[], original: unknown): void => {
    const last = out.at(-1);
    if (last !== undefined && last.role === role) {
      if (typeof last.content === 'string') last.content = [{ type: 'text', text: last.content }];
      for (const b of blocks) last.content.push(b);
      return;
    }
    // A plain string turn is sent as a string, as a client would write it.
    out.push({ role, content: typeof original === 'string' && blocks.length === 1 ? original : blocks });
  };

  messages.forEach((raw, i) => {
    const m = (raw ?? {}) as Obj;
    const param = `messages[${i}]`;
    if (typeof m.name === 'string' && !namesIgnored) {
      namesIgnored = true;
      warnings.push("message 'name' fields are not supported by anthropic and were ignored");
    }
    switch (m.role) {
      case 'system':
      case 'developer': {
        if (seenTurn) warnings.push(`${param}: a ${m.role} message after the conversation started was moved into the system prompt`);
        const text = textOnly(m.content, `${param}.content`);
        if (text !== '') system.push(text);
        return;
      }
      case 'user': {
        seenTurn = true;
        const blocks = contentBlocks(m.content, `${param}.content`, true);
        if (blocks.length === 0) throw invalidRequest('user messages must have non-empty content', `${param}.content`);
        push('user', blocks, m.content);
        return;
      }
      case 'assistant': {
        seenTurn = true;
        if (m.function_call !== undefined && m.function_call !== null) {
          throw invalidRequest("legacy 'function_call' is not supported by this provider; use tool_calls", `${param}.function_call`);
        }
        const blocks = [...contentBlocks(m.content, `${param}.content`, false), ...toolUseBlocks(m.tool_calls, param)];
        if (blocks.length === 0) return; // an empty assistant turn carries nothing Anthropic accepts
        push('assistant', blocks, m.tool_calls === undefined ? m.content : undefined);
        return;
      }
      case 'tool': {
        seenTurn = true;
        if (typeof m.tool_call_id !== 'string') throw invalidRequest('tool messages need tool_call_id', `${param}.tool_call_id`);
        const text = textOnly(m.content, `${param}.content`);
        push('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: text }], undefined);
        return;
      }
      default:
        throw invalidRequest(`message role '${quoted(m.role)}' is not supported by this provider`, `${param}.role`);
    }
  });
  if (out.length === 0) throw invalidRequest('at least one user or assistant message is required', 'messages');
  return system.length === 0 ? { messages: out } : { system: system.join('\n\n'), messages: out };
}
