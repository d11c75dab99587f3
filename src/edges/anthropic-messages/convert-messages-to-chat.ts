/**
 * Anthropic `system` + `messages` → OpenAI chat messages, validating as it goes (a 400 naming the field, in Anthropic's
 * dotted style). User turns: text, image (base64 or URL) and document (base64 PDF) blocks become content parts; tool_result
 * blocks become `tool` messages placed before the rest of the turn, as OpenAI requires them right after the assistant's
 * tool calls. Assistant turns: text becomes content, tool_use blocks become tool_calls; thinking blocks cannot be carried
 * into the internal request and are reported. Anything else is refused rather than dropped.
 */
import { quoted } from '../../errors.js';
import { badField } from './anthropic-errors.js';

type Obj = Record<string, unknown>;
type ChatMessage = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v);

function text(block: Obj, at: string): string {
  if (typeof block.text !== 'string') throw badField(`${at}.text`, `Input should be a valid string, got ${typeName(block.text)}`);
  return block.text;
}

function imagePart(block: Obj, at: string): Obj {
  const src = block.source;
  if (!isObj(src)) throw badField(`${at}.source`, 'Field required');
  if (src.type === 'base64') {
    if (typeof src.media_type !== 'string' || !/^image\/[a-z0-9.+-]+$/i.test(src.media_type)) throw badField(`${at}.source.media_type`, 'Input should be an image media type');
    if (typeof src.data !== 'string') throw badField(`${at}.source.data`, 'Field required');
    return { type: 'image_url', image_url: { url: `data:${src.media_type};base64,${src.data}` } };
  }
  if (src.type === 'url') {
    if (typeof src.url !== 'string' || !/^https?:\/\//i.test(src.url)) throw badField(`${at}.source.url`, 'Input should be an http(s) URL');
    return { type: 'image_url', image_url: { url: src.url } };
  }
  throw badField(`${at}.source.type`, "Input should be 'base64' or 'url'");
}

function documentPart(block: Obj, at: string): Obj {
  const src = block.source;
  if (!isObj(src) || src.type !== 'base64' || typeof src.media_type !== 'string' || typeof src.data !== 'string') {
    throw badField(`${at}.source`, 'only base64 documents (type, media_type, data) are supported by this gateway');
  }
  return { type: 'file', file: { file_data: `data:${src.media_type};base64,${src.data}`, ...(typeof block.title === 'string' ? { filename: block.title } : {}) } };
}

/** A tool_result's content → the tool message's content (text only: OpenAI tool messages carry no images). */
function toolResultContent(block: Obj, at: string): string {
  const c = block.content;
  if (c === undefined) return '';
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) throw badField(`${at}.content`, `Input should be a valid string or list of blocks, got ${typeName(c)}`);
  return c.map((raw, k) => {
    const b = isObj(raw) ? raw : {};
    if (b.type !== 'text') throw badField(`${at}.content.${k}.type`, `tool_result content of type '${quoted(b.type)}' is not supported by this gateway; send text`);
    return text(b, `${at}.content.${k}`);
  }).join('\n');
}

const CACHE_CONTROL_WARNING = 'cache_control marks are not carried upstream by this gateway (its own cache applies)';

function blocksOf(m: Obj, at: string, warnings: string[]): Obj[] {
  if (typeof m.content === 'string') return [{ type: 'text', text: m.content }];
  if (!Array.isArray(m.content)) throw badField(`${at}.content`, m.content === undefined ? 'Field required' : `Input should be a valid string or list of blocks, got ${typeName(m.content)}`);
  return m.content.map((b, j) => {
    if (!isObj(b) || typeof b.type !== 'string') throw badField(`${at}.content.${j}`, 'Input should be an object with a string type');
    if (b.cache_control !== undefined && !warnings.includes(CACHE_CONTROL_WARNING)) warnings.push(CACHE_CONTROL_WARNING);
    return b;
  });
}

function userTurn(m: Obj, at: string, warnings: string[]): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const parts: Obj[] = [];
  let onlyText = true;
  blocksOf(m, at, warnings).forEach((b, j) => {
    const bat = `${at}.content.${j}`;
    switch (b.type) {
      case 'text':
        parts.push({ type: 'text', text: text(b, bat) });
        break;
      case 'image':
        onlyText = false;
        parts.push(imagePart(b, bat));
        break;
      case 'document':
        onlyText = false;
        parts.push(documentPart(b, bat));
        break;
      case 'tool_result':
        if (typeof b.tool_use_id !== 'string' || b.tool_use_id === '') throw badField(`${bat}.tool_use_id`, 'Field required');
        if (b.is_error === true) warnings.push(`${bat}: is_error has no equivalent in the internal request; the result was sent as plain content`);
        tools.push({ role: 'tool', tool_call_id: b.tool_use_id, content: toolResultContent(b, bat) });
        break;
      default:
        throw badField(`${bat}.type`, `content block type '${quoted(b.type)}' is not supported in user turns by this gateway`);
    }
  });
  if (parts.length === 0) return tools;
  const content = onlyText && parts.length === 1 && typeof m.content === 'string' ? m.content : parts;
  return [...tools, { role: 'user', content }];
}

function assistantTurn(m: Obj, at: string, warnings: string[]): ChatMessage[] {
  const texts: string[] = [];
  const calls: Obj[] = [];
  blocksOf(m, at, warnings).forEach((b, j) => {
    const bat = `${at}.content.${j}`;
    switch (b.type) {
      case 'text':
        texts.push(text(b, bat));
        break;
      case 'tool_use':
        if (typeof b.id !== 'string' || b.id === '') throw badField(`${bat}.id`, 'Field required');
        if (typeof b.name !== 'string' || b.name === '') throw badField(`${bat}.name`, 'Field required');
        if (!isObj(b.input)) throw badField(`${bat}.input`, 'Input should be a valid dictionary');
        calls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input) } });
        break;
      case 'thinking':
      case 'redacted_thinking':
        warnings.push(`${bat}: ${b.type} blocks from earlier turns are not carried upstream by this gateway`);
        break;
      default:
        throw badField(`${bat}.type`, `content block type '${quoted(b.type)}' is not supported in assistant turns by this gateway`);
    }
  });
  if (texts.length === 0 && calls.length === 0) return [];
  const msg: ChatMessage = { role: 'assistant', content: texts.length === 0 ? null : texts.join('') };
  if (calls.length > 0) msg.tool_calls = calls;
  return [msg];
}

/** `system` (a string or text blocks) → the leading system message, if any. */
function systemMessage(system: unknown, warnings: string[]): ChatMessage | undefined {
  if (system === undefined || system === null) return undefined;
  if (typeof system === 'string') return system === '' ? undefined : { role: 'system', content: system };
  if (!Array.isArray(system)) throw badField('system', `Input should be a valid string or list of text blocks, got ${typeName(system)}`);
  const texts = system.map((raw, i) => {
    const b = isObj(raw) ? raw : {};
    if (b.type !== 'text') throw badField(`system.${i}.type`, "Input should be 'text'");
    if (b.cache_control !== undefined && !warnings.includes(CACHE_CONTROL_WARNING)) warnings.push(CACHE_CONTROL_WARNING);
    return text(b, `system.${i}`);
  });
  return texts.length === 0 ? undefined : { role: 'system', content: texts.map((t) => ({ type: 'text', text: t })) };
}

export function convertMessagesToChat(system: unknown, messages: unknown, maxMessages: number, warnings: string[]): ChatMessage[] {
  if (messages === undefined) throw badField('messages', 'Field required');
  if (!Array.isArray(messages)) throw badField('messages', `Input should be a valid list, got ${typeName(messages)}`);
  if (messages.length === 0) throw badField('messages', 'at least one message is required');
  if (messages.length > maxMessages) throw badField('messages', `at most ${maxMessages} messages are accepted, got ${messages.length}`);
  const out: ChatMessage[] = [];
  const sys = systemMessage(system, warnings);
  if (sys !== undefined) out.push(sys);
  messages.forEach((raw, i) => {
    const at = `messages.${i}`;
    if (!isObj(raw)) throw badField(at, 'Input should be a valid dictionary');
    // One message per tool result, as many as the caller sent: appended one by one (a spread of them could overflow the stack).
    if (raw.role === 'user') for (const m of userTurn(raw, at, warnings)) out.push(m);
    else if (raw.role === 'assistant') for (const m of assistantTurn(raw, at, warnings)) out.push(m);
    else throw badField(`${at}.role`, "Input should be 'user' or 'assistant'");
  });
  return out;
}
