/**
 * An Anthropic Messages request body → the gateway's internal request (an OpenAI chat body), validated with a 400 naming
 * the field. Parameters with an OpenAI equivalent are translated (max_tokens, stop_sequences, temperature, top_p,
 * metadata.user_id → user, tools, tool_choice); `top_k` and `thinking` have none and travel as extension fields that the
 * Anthropic adapter maps back (OpenAI-compatible servers that know them, such as vLLM, read them too). The caller's own body
 * is kept as the native request: an Anthropic upstream receives it as sent, so what the internal request cannot represent
 * (other top-level fields, cache_control marks, earlier thinking blocks) is lost only on a translated route — and reported
 * there, never dropped silently.
 */
import { quoted } from '../../errors.js';
import { warningList } from '../../llm/warnings.js';
import { MAX_MODEL_CHARS } from '../../pipeline/build-context.js';
import { badField } from './anthropic-errors.js';
import { convertMessagesToChat } from './convert-messages-to-chat.js';

type Obj = Record<string, unknown>;

export interface ParsedMessagesRequest {
  /** The internal (OpenAI chat) request. */
  body: Obj;
  stream: boolean;
  /** The caller's body as an Anthropic upstream may receive it (fields refused for any upstream left out). */
  native: Obj;
  /** Top-level fields only the native request carries. */
  extras: Obj;
  /** What no upstream receives. */
  warnings: string[];
  /** What a translated route loses (nothing is lost when an Anthropic upstream receives the native request). */
  translationLosses: string[];
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Fields that make the upstream run servers or containers on the caller's behalf: never forwarded by the gateway. */
const WITHHELD = new Set(['mcp_servers', 'container']);

/** Fields this edge reads; any other top-level field is carried natively only. */
const HANDLED = new Set([
  'model', 'messages', 'system', 'max_tokens', 'stop_sequences', 'temperature', 'top_p', 'top_k', 'metadata', 'stream', 'tools',
  'tool_choice', 'thinking',
]);

function model(b: Obj): string {
  const m = b.model;
  if (m === undefined) throw badField('model', 'Field required');
  if (typeof m !== 'string' || m === '') throw badField('model', 'Input should be a non-empty string');
  if (m.length > MAX_MODEL_CHARS || CONTROL.test(m)) throw badField('model', `Input should be a name of at most ${MAX_MODEL_CHARS} characters without control characters`);
  return m;
}

function range(b: Obj, field: string, lo: number, hi: number): number | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (!isNum(v)) throw badField(field, `Input should be a valid number, got ${typeName(v)}`);
  if (v < lo || v > hi) throw badField(field, `Input should be between ${lo} and ${hi}`);
  return v;
}

function tools(b: Obj): Obj[] | undefined {
  if (b.tools === undefined || b.tools === null) return undefined;
  if (!Array.isArray(b.tools)) throw badField('tools', `Input should be a valid list, got ${typeName(b.tools)}`);
  return b.tools.map((raw, i) => {
    const t = isObj(raw) ? raw : {};
    if (t.type !== undefined && t.type !== 'custom') {
      throw badField(`tools.${i}.type`, `tool type '${quoted(t.type)}' (a server tool) is not supported by this gateway; define a custom tool with input_schema`);
    }
    if (typeof t.name !== 'string' || t.name === '') throw badField(`tools.${i}.name`, 'Field required');
    if (!isObj(t.input_schema)) throw badField(`tools.${i}.input_schema`, 'Field required');
    if (t.description !== undefined && typeof t.description !== 'string') throw badField(`tools.${i}.description`, 'Input should be a valid string');
    const fn: Obj = { name: t.name, parameters: t.input_schema };
    if (typeof t.description === 'string') fn.description = t.description;
    return { type: 'function', function: fn };
  });
}

/** tool_choice → OpenAI tool_choice (+ parallel_tool_calls: false for disable_parallel_tool_use). */
function toolChoice(b: Obj, out: Obj): void {
  const c = b.tool_choice;
  if (c === undefined || c === null) return;
  if (!isObj(c)) throw badField('tool_choice', 'Input should be a valid dictionary');
  switch (c.type) {
    case 'auto': out.tool_choice = 'auto'; break;
    case 'any': out.tool_choice = 'required'; break;
    case 'none': out.tool_choice = 'none'; break;
    case 'tool':
      if (typeof c.name !== 'string' || c.name === '') throw badField('tool_choice.name', 'Field required');
      out.tool_choice = { type: 'function', function: { name: c.name } };
      break;
    default:
      throw badField('tool_choice.type', "Input should be 'auto', 'any', 'tool' or 'none'");
  }
  if (c.disable_parallel_tool_use === true && out.tools !== undefined) out.parallel_tool_calls = false;
}

const THINKING_TYPES = new Set(['enabled', 'adaptive', 'between_tools']);

/** `thinking`, carried as given for the Anthropic adapter (only its type and budget are checked here). */
function thinking(b: Obj): Obj | undefined {
  const t = b.thinking;
  if (t === undefined || t === null) return undefined;
  if (!isObj(t)) throw badField('thinking', 'Input should be a valid dictionary');
  if (t.type === 'disabled') return undefined; // the default everywhere: nothing to carry
  if (typeof t.type !== 'string' || !THINKING_TYPES.has(t.type)) throw badField('thinking.type', "Input should be 'enabled', 'adaptive', 'between_tools' or 'disabled'");
  if (t.type === 'enabled' && (!Number.isInteger(t.budget_tokens) || (t.budget_tokens as number) < 1)) throw badField('thinking.budget_tokens', 'Input should be a positive integer');
  return t;
}

export interface ParseOptions {
  /** count_tokens: the body of a Messages request without max_tokens (and never streamed). */
  countOnly?: boolean;
}

export function parseMessagesRequest(raw: unknown, maxMessages: number, opts: ParseOptions = {}): ParsedMessagesRequest {
  if (!isObj(raw)) throw badField('body', 'The request body must be a JSON object');
  const b = raw;
  const warnings = warningList();
  const losses = warningList();
  const out: Obj = { model: model(b) };
  if (b.max_tokens === undefined && opts.countOnly !== true) throw badField('max_tokens', 'Field required');
  if (b.max_tokens !== undefined && (!Number.isInteger(b.max_tokens) || (b.max_tokens as number) < 1)) throw badField('max_tokens', 'Input should be a positive integer');
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw badField('stream', 'Input should be a valid boolean');
  const stream = b.stream === true;
  out.messages = convertMessagesToChat(b.system, b.messages, maxMessages, losses);
  if (b.max_tokens !== undefined) out.max_tokens = b.max_tokens;
  if (b.stop_sequences !== undefined && b.stop_sequences !== null) {
    if (!Array.isArray(b.stop_sequences) || !b.stop_sequences.every((s) => typeof s === 'string')) throw badField('stop_sequences', 'Input should be a list of strings');
    if (b.stop_sequences.length > 0) out.stop = b.stop_sequences;
  }
  const temperature = range(b, 'temperature', 0, 1);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = range(b, 'top_p', 0, 1);
  if (topP !== undefined) out.top_p = topP;
  if (b.top_k !== undefined && b.top_k !== null) {
    if (!Number.isInteger(b.top_k) || (b.top_k as number) < 0) throw badField('top_k', 'Input should be a non-negative integer');
    out.top_k = b.top_k;
  }
  if (b.metadata !== undefined && b.metadata !== null) {
    if (!isObj(b.metadata)) throw badField('metadata', 'Input should be a valid dictionary');
    const user = b.metadata.user_id;
    if (user !== undefined && user !== null && typeof user !== 'string') throw badField('metadata.user_id', 'Input should be a valid string');
    if (typeof user === 'string' && user !== '') out.user = user;
  }
  const t = tools(b);
  if (t !== undefined && t.length > 0) out.tools = t;
  toolChoice(b, out);
  if (out.tool_choice !== undefined && out.tool_choice !== 'none' && out.tool_choice !== 'auto' && out.tools === undefined) {
    throw badField('tool_choice', "requires 'tools'");
  }
  const think = thinking(b);
  if (think !== undefined) out.thinking = think;
  if (stream) out.stream = true;
  const native: Obj = {};
  const extras: Obj = {};
  for (const key of Object.keys(b)) {
    if (WITHHELD.has(key)) {
      warnings.push(`parameter '${key}' is not forwarded by this gateway and was ignored`);
      continue;
    }
    native[key] = b[key];
    if (HANDLED.has(key)) continue;
    extras[key] = b[key];
    losses.push(`parameter '${key.slice(0, 64)}' reaches Anthropic upstreams only; this route translates the request and it was not sent`);
  }
  // Plain lists out (at most MAX_WARNINGS + 1 each).
  return { body: out, stream, native, extras, warnings: Array.from(warnings), translationLosses: Array.from(losses) };
}
