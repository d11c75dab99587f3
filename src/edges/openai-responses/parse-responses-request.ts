/**
 * Validates a `POST /v1/responses` body into a ResponsesRequest: every field the gateway honours is checked for its type, the
 * input is normalised to conversation items, and the first bad field is named in a 400 (the OpenAI envelope). What only an
 * upstream that speaks the Responses API can take (built-in tools, content and item kinds the internal request has no place
 * for, fields the gateway does not know) is not refused here: the request can still be passed through as written, so such a
 * part is recorded as untranslatable (the 400 a translated route answers, src/llm/protocol.ts) and left out of the internal
 * request. What a translated route merely loses is recorded as a warning for that route. Features that need state the gateway
 * does not keep (background mode, upstream conversations, stored prompts, item references) are refused on every route.
 */
import { invalidRequest, quoted } from '../../errors.js';
import { warningList } from '../../llm/warnings.js';
import type { Untranslatable } from '../../llm/protocol.js';
import { MAX_MODEL_CHARS } from '../../pipeline/build-context.js';
import type { ConversationItem, FunctionTool, InputContent, MessageRole, ResponsesRequest, TextFormat, ToolChoice } from './responses-api.js';

type Obj = Record<string, unknown>;

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function badType(param: string, expected: string, v: unknown): never {
  throw invalidRequest(`Invalid type for '${param}': expected ${expected}, but got ${typeName(v)} instead.`, param, 'invalid_type');
}

function badValue(param: string, message: string): never {
  throw invalidRequest(`Invalid value for '${param}': ${message}`, param, 'invalid_value');
}

const unsupported = (param: string, what: string): never => {
  throw invalidRequest(`${what} is not supported by this gateway.`, param, 'unsupported_parameter');
};

function str(o: Obj, key: string, param: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined || (v === null && !required)) {
    if (required) throw invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
    return undefined;
  }
  if (typeof v !== 'string') badType(param, 'a string', v);
  return v;
}

function num(o: Obj, key: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) badType(key, 'a number', v);
  if (v < min || v > max) badValue(key, `expected a number between ${min} and ${max}.`);
  return v;
}

function bool(o: Obj, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') badType(key, 'a boolean', v);
  return v;
}

/** What a translated route cannot carry or loses, found while parsing; the top-level fields concerned key the cache. */
export interface Translation {
  /** The first part only a Responses upstream can take: a translated route answers this 400. */
  untranslatable?: Untranslatable;
  /** What a translated route drops, as warnings for that route. */
  losses: string[];
  /** Top-level fields whose value the internal request does not wholly represent. */
  fields: Set<string>;
}

export const newTranslation = (): Translation => ({ losses: warningList(), fields: new Set() });

/** Records a part only a Responses upstream can take (the first one is the translated route's 400); returns undefined. */
function passOnly(t: Translation, top: string, param: string, what: string, code = 'unsupported_parameter'): undefined {
  t.untranslatable ??= {
    message: code === 'unknown_parameter' ? what : `${what} needs an upstream that speaks the Responses API; this request was routed to one that does not.`,
    param, code,
  };
  t.fields.add(top);
  return undefined;
}

function lose(t: Translation, top: string, warning: string): void {
  t.losses.push(warning);
  t.fields.add(top);
}

const ROLES: ReadonlySet<string> = new Set(['user', 'assistant', 'system', 'developer']);

function contentPart(p: unknown, param: string, role: MessageRole, t: Translation, top: string): InputContent | undefined {
  if (!isObj(p) || typeof p.type !== 'string') badType(param, "an object with a string 'type'", p);
  switch (p.type) {
    case 'input_text':
    case 'output_text':
      return { type: p.type, text: str(p, 'text', `${param}.text`, true)! };
    case 'refusal':
      return { type: 'refusal', refusal: str(p, 'refusal', `${param}.refusal`, true)! };
    case 'input_image': {
      if (role === 'assistant') badValue(`${param}.type`, 'assistant messages cannot carry images.');
      const url = str(p, 'image_url', `${param}.image_url`, false);
      if (url === undefined) return passOnly(t, top, `${param}.file_id`, 'An image given by file_id (rather than image_url)');
      const detail = p.detail;
      if (detail !== undefined && detail !== null && detail !== 'low' && detail !== 'high' && detail !== 'auto') badValue(`${param}.detail`, "expected 'low', 'high' or 'auto'.");
      return { type: 'input_image', image_url: url, ...(typeof detail === 'string' ? { detail: detail as 'low' | 'high' | 'auto' } : {}) };
    }
    default:
      return passOnly(t, top, `${param}.type`, `Content of type '${p.type.slice(0, 64)}'`);
  }
}

/** Text of a function_call_output's `output`: a string, or a list of input_text parts joined. */
function outputText(v: unknown, param: string, t: Translation, top: string): string | undefined {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) badType(param, 'a string or an array of content parts', v);
  let text = '';
  for (let j = 0; j < v.length; j++) {
    const part = contentPart(v[j], `${param}[${j}]`, 'user', t, top);
    if (part === undefined) return undefined;
    if (part.type !== 'input_text') return passOnly(t, top, `${param}[${j}].type`, `A tool output part of type '${part.type}'`);
    text += part.text;
  }
  return text;
}

/** One input item; undefined when the internal request cannot carry it (recorded in `t`). */
function item(v: unknown, param: string, t: Translation, top: string): ConversationItem | undefined {
  if (!isObj(v)) badType(param, 'an object', v);
  const type = v.type ?? (v.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message': {
      const role = v.role;
      if (typeof role !== 'string' || !ROLES.has(role)) badValue(`${param}.role`, "expected 'user', 'assistant', 'system' or 'developer'.");
      const c = v.content;
      if (typeof c === 'string') return { type: 'message', role: role as MessageRole, content: c };
      if (!Array.isArray(c)) badType(`${param}.content`, 'a string or an array of content parts', c);
      const content: InputContent[] = [];
      c.forEach((p, j) => {
        const part = contentPart(p, `${param}.content[${j}]`, role as MessageRole, t, top);
        if (part !== undefined) content.push(part);
      });
      return { type: 'message', role: role as MessageRole, content };
    }
    case 'function_call':
      return {
        type: 'function_call',
        call_id: str(v, 'call_id', `${param}.call_id`, true)!,
        name: str(v, 'name', `${param}.name`, true)!,
        arguments: str(v, 'arguments', `${param}.arguments`, true)!,
      };
    case 'function_call_output': {
      if (v.output === undefined) throw invalidRequest(`Missing required parameter: '${param}.output'.`, `${param}.output`, 'missing_required_parameter');
      const callId = str(v, 'call_id', `${param}.call_id`, true)!;
      const output = outputText(v.output, `${param}.output`, t, top);
      return output === undefined ? undefined : { type: 'function_call_output', call_id: callId, output };
    }
    // Reasoning items carry no text a chat-completions upstream can take back: a translated route drops them.
    case 'reasoning':
      lose(t, top, `${param}: reasoning items are not forwarded`);
      return undefined;
    // A reference to an item the upstream stored: the gateway never lets an upstream store (store: false).
    case 'item_reference':
      return unsupported(`${param}.type`, 'Input items of type \'item_reference\'');
    case undefined:
      return badValue(`${param}.type`, "expected an item with a 'type' (message, function_call, function_call_output).");
    default:
      return passOnly(t, top, `${param}.type`, `Input items of type '${quoted(type)}'`);
  }
}

/** Input items (the caller's, or a stored conversation's) as conversation items; `param` names item i in errors. */
export function parseItems(raw: readonly unknown[], param: (i: number) => string, t: Translation, top: string): ConversationItem[] {
  const out: ConversationItem[] = [];
  raw.forEach((v, i) => {
    const it = item(v, param(i), t, top);
    if (it !== undefined) out.push(it);
  });
  return out;
}

function tools(v: unknown, t: Translation): FunctionTool[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) badType('tools', 'an array', v);
  const out: FunctionTool[] = [];
  v.forEach((tool, i) => {
    const param = `tools[${i}]`;
    if (!isObj(tool) || typeof tool.type !== 'string') badType(param, "an object with a string 'type'", tool);
    if (tool.type !== 'function') return passOnly(t, 'tools', `${param}.type`, `The built-in tool '${tool.type.slice(0, 64)}'`);
    const name = str(tool, 'name', `${param}.name`, true)!;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) badValue(`${param}.name`, 'expected 1 to 64 letters, digits, underscores or dashes.');
    const parameters = tool.parameters;
    if (parameters !== undefined && parameters !== null && !isObj(parameters)) badType(`${param}.parameters`, 'an object', parameters);
    const description = str(tool, 'description', `${param}.description`, false);
    const strict = bool(tool, 'strict');
    out.push({
      type: 'function', name,
      ...(description !== undefined ? { description } : {}),
      ...(isObj(parameters) ? { parameters } : {}),
      ...(strict !== undefined ? { strict } : {}),
    });
    return undefined;
  });
  return out;
}

function toolChoice(v: unknown, declared: readonly FunctionTool[], t: Translation): ToolChoice | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === 'auto' || v === 'none' || v === 'required') return v;
  if (typeof v === 'string') return badValue('tool_choice', "expected 'auto', 'none', 'required' or a function choice.");
  if (!isObj(v)) return badType('tool_choice', 'a string or an object', v);
  if (v.type !== 'function') return passOnly(t, 'tool_choice', 'tool_choice.type', `A tool choice of type '${quoted(v.type)}'`);
  const name = str(v, 'name', 'tool_choice.name', true)!;
  if (!declared.some((d) => d.name === name)) badValue('tool_choice.name', `no function named '${name.slice(0, 64)}' is declared in 'tools'.`);
  return { type: 'function', name };
}

/** Members of an object field beyond those the internal request carries: a translated route loses them. */
function loseOthers(t: Translation, top: string, v: Obj, kept: readonly string[]): void {
  for (const k of Object.keys(v)) {
    if (!kept.includes(k) && v[k] !== undefined && v[k] !== null) lose(t, top, `${top}.${k.slice(0, 64)} is not supported on this route and was not sent`);
  }
}

function textFormat(v: unknown, t: Translation): { format?: TextFormat } | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) badType('text', 'an object', v);
  loseOthers(t, 'text', v, ['format']);
  const f = v.format;
  if (f === undefined || f === null) return {};
  if (!isObj(f) || typeof f.type !== 'string') badType('text.format', "an object with a string 'type'", f);
  if (f.type === 'text' || f.type === 'json_object') return { format: { type: f.type } };
  if (f.type !== 'json_schema') return passOnly(t, 'text', 'text.format.type', `The text format '${f.type.slice(0, 64)}'`);
  const name = str(f, 'name', 'text.format.name', true)!;
  if (!isObj(f.schema)) badType('text.format.schema', 'an object', f.schema);
  const strict = bool(f, 'strict');
  const description = str(f, 'description', 'text.format.description', false);
  return { format: { type: 'json_schema', name, schema: f.schema as Obj, ...(strict !== undefined ? { strict } : {}), ...(description !== undefined ? { description } : {}) } };
}

/** Fields the gateway refuses on every route: honouring them needs state it does not keep or let an upstream keep. */
const REFUSED: ReadonlyMap<string, string> = new Map([
  ['background', 'Background mode'],
  ['conversation', 'The conversation parameter (use previous_response_id)'],
  ['prompt', 'Stored prompt templates'],
]);

/** Fields a translated route does not honour: sent to a Responses upstream, ignored with a warning elsewhere. */
const IGNORED = new Set(['include', 'top_logprobs', 'safety_identifier', 'prompt_cache_key', 'stream_options', 'max_tool_calls']);

const KNOWN = new Set([
  'model', 'input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'max_output_tokens', 'temperature', 'top_p', 'stream',
  'store', 'previous_response_id', 'text', 'reasoning', 'user', 'metadata', 'service_tier', 'truncation',
]);

export interface ParsedResponsesRequest {
  request: ResponsesRequest;
  /** The caller's input items as sent (a string input as one user message), for the stored conversation. */
  rawInput: unknown[];
  translation: Translation;
}

/** Validates the body; returns the request and what a translated route cannot carry or loses. */
export function parseResponsesRequest(body: unknown, maxItems: number): ParsedResponsesRequest {
  if (!isObj(body)) throw invalidRequest('The request body must be a JSON object.', null, 'invalid_body');
  const t = newTranslation();
  for (const key of Object.keys(body)) {
    if (body[key] === undefined || body[key] === null || body[key] === false) continue;
    const refused = REFUSED.get(key);
    if (refused !== undefined) unsupported(key, refused);
    if (IGNORED.has(key)) lose(t, key, `${key} is not supported and was ignored`);
    else if (!KNOWN.has(key)) passOnly(t, key, key.slice(0, 64), `Unknown parameter: '${key.slice(0, 64)}'.`, 'unknown_parameter');
  }
  const model = str(body, 'model', 'model', true)!;
  // eslint-disable-next-line no-control-regex
  if (model.length === 0 || model.length > MAX_MODEL_CHARS || /[\u0000-\u001f\u007f]/.test(model)) {
    badValue('model', `expected a name of 1 to ${MAX_MODEL_CHARS} characters without control characters.`);
  }
  const rawInputField = body.input;
  let rawInput: unknown[];
  if (rawInputField === undefined || rawInputField === null) rawInput = [];
  else if (typeof rawInputField === 'string') rawInput = [{ type: 'message', role: 'user', content: rawInputField }];
  else if (Array.isArray(rawInputField)) {
    if (rawInputField.length > maxItems) {
      throw invalidRequest(`Invalid 'input': array too long. Expected an array with maximum length ${maxItems}, but got an array with length ${rawInputField.length} instead.`, 'input', 'array_above_max_length');
    }
    rawInput = rawInputField;
  } else return badType('input', 'a string or an array of items', rawInputField);
  const input = parseItems(rawInput, (i) => `input[${i}]`, t, 'input');
  const previous = str(body, 'previous_response_id', 'previous_response_id', false);
  if (rawInput.length === 0 && previous === undefined) throw invalidRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  const declared = tools(body.tools, t);
  const maxOutput = body.max_output_tokens;
  if (maxOutput !== undefined && maxOutput !== null && (!Number.isInteger(maxOutput) || (maxOutput as number) < 1)) badType('max_output_tokens', 'an integer >= 1', maxOutput);
  const truncation = body.truncation;
  if (truncation !== undefined && truncation !== null && truncation !== 'auto' && truncation !== 'disabled') badValue('truncation', "expected 'auto' or 'disabled'.");
  if (truncation === 'auto') lose(t, 'truncation', "truncation 'auto' is not supported; the input is sent whole");
  const reasoning = body.reasoning;
  if (reasoning !== undefined && reasoning !== null && !isObj(reasoning)) badType('reasoning', 'an object', reasoning);
  if (isObj(reasoning)) loseOthers(t, 'reasoning', reasoning, ['effort']);
  const metadata = body.metadata;
  if (metadata !== undefined && metadata !== null && (!isObj(metadata) || Object.values(metadata).some((m) => typeof m !== 'string'))) {
    badType('metadata', 'an object of strings', metadata);
  }
  const effort = isObj(reasoning) ? str(reasoning, 'effort', 'reasoning.effort', false) : undefined;
  const opt = <K extends keyof ResponsesRequest>(k: K, v: ResponsesRequest[K] | undefined): Partial<ResponsesRequest> => (v === undefined ? {} : { [k]: v });
  const request: ResponsesRequest = {
    model,
    input,
    tools: declared,
    stream: bool(body, 'stream') ?? false,
    store: bool(body, 'store') ?? true,
    ...opt('instructions', str(body, 'instructions', 'instructions', false)),
    ...opt('tool_choice', toolChoice(body.tool_choice, declared, t)),
    ...opt('parallel_tool_calls', bool(body, 'parallel_tool_calls')),
    ...opt('max_output_tokens', typeof maxOutput === 'number' ? maxOutput : undefined),
    ...opt('temperature', num(body, 'temperature', 0, 2)),
    ...opt('top_p', num(body, 'top_p', 0, 1)),
    ...opt('previous_response_id', previous),
    ...opt('text', textFormat(body.text, t)),
    ...opt('reasoning', effort !== undefined ? { effort } : undefined),
    ...opt('user', str(body, 'user', 'user', false)),
    ...opt('metadata', isObj(metadata) ? (metadata as Record<string, string>) : undefined),
    ...opt('service_tier', str(body, 'service_tier', 'service_tier', false)),
    ...opt('truncation', truncation === 'auto' || truncation === 'disabled' ? truncation : undefined),
  };
  return { request, rawInput, translation: t };
}
