/**
 * Validates a `POST /v1/responses` body into a ResponsesRequest: every field the gateway honours is checked for its type, the
 * input is normalised to conversation items, and the first bad field is named in a 400 (the OpenAI envelope). Features the
 * gateway does not implement (built-in tools, background mode, stored prompts, conversations) are refused by name rather than
 * ignored; parameters it cannot honour but that change nothing essential are reported as warnings.
 */
import { invalidRequest } from '../../errors.js';
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

const ROLES: ReadonlySet<string> = new Set(['user', 'assistant', 'system', 'developer']);

function contentPart(p: unknown, param: string, role: MessageRole): InputContent {
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
      if (url === undefined) unsupported(`${param}.file_id`, 'An image given by file_id (rather than image_url)');
      const detail = p.detail;
      if (detail !== undefined && detail !== null && detail !== 'low' && detail !== 'high' && detail !== 'auto') badValue(`${param}.detail`, "expected 'low', 'high' or 'auto'.");
      return { type: 'input_image', image_url: url!, ...(typeof detail === 'string' ? { detail: detail as 'low' | 'high' | 'auto' } : {}) };
    }
    case 'input_file':
    case 'input_audio':
      return unsupported(`${param}.type`, `Content of type '${p.type}'`);
    default:
      return badValue(`${param}.type`, `unknown content type '${String(p.type).slice(0, 64)}'.`);
  }
}

/** Text of a function_call_output's `output`: a string, or a list of input_text parts joined. */
function outputText(v: unknown, param: string): string {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) badType(param, 'a string or an array of content parts', v);
  return v.map((p, j) => {
    const part = contentPart(p, `${param}[${j}]`, 'user');
    if (part.type !== 'input_text') return unsupported(`${param}[${j}].type`, `A tool output part of type '${part.type}'`);
    return part.text;
  }).join('');
}

function item(v: unknown, param: string): ConversationItem | undefined {
  if (!isObj(v)) badType(param, 'an object', v);
  const type = v.type ?? (v.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message': {
      const role = v.role;
      if (typeof role !== 'string' || !ROLES.has(role)) badValue(`${param}.role`, "expected 'user', 'assistant', 'system' or 'developer'.");
      const c = v.content;
      if (typeof c === 'string') return { type: 'message', role: role as MessageRole, content: c };
      if (!Array.isArray(c)) badType(`${param}.content`, 'a string or an array of content parts', c);
      return { type: 'message', role: role as MessageRole, content: c.map((p, j) => contentPart(p, `${param}.content[${j}]`, role as MessageRole)) };
    }
    case 'function_call':
      return {
        type: 'function_call',
        call_id: str(v, 'call_id', `${param}.call_id`, true)!,
        name: str(v, 'name', `${param}.name`, true)!,
        arguments: str(v, 'arguments', `${param}.arguments`, true)!,
      };
    case 'function_call_output':
      if (v.output === undefined) throw invalidRequest(`Missing required parameter: '${param}.output'.`, `${param}.output`, 'missing_required_parameter');
      return { type: 'function_call_output', call_id: str(v, 'call_id', `${param}.call_id`, true)!, output: outputText(v.output, `${param}.output`) };
    // Reasoning items carry no text a chat-completions upstream can take back; they are dropped (reported by the caller).
    case 'reasoning':
      return undefined;
    case undefined:
      return badValue(`${param}.type`, "expected an item with a 'type' (message, function_call, function_call_output).");
    default:
      return unsupported(`${param}.type`, `Input items of type '${String(type).slice(0, 64)}'`);
  }
}

function tools(v: unknown): FunctionTool[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) badType('tools', 'an array', v);
  return v.map((t, i) => {
    const param = `tools[${i}]`;
    if (!isObj(t) || typeof t.type !== 'string') badType(param, "an object with a string 'type'", t);
    if (t.type !== 'function') return unsupported(`${param}.type`, `The built-in tool '${t.type.slice(0, 64)}'`);
    const name = str(t, 'name', `${param}.name`, true)!;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) badValue(`${param}.name`, 'expected 1 to 64 letters, digits, underscores or dashes.');
    const parameters = t.parameters;
    if (parameters !== undefined && parameters !== null && !isObj(parameters)) badType(`${param}.parameters`, 'an object', parameters);
    const description = str(t, 'description', `${param}.description`, false);
    const strict = bool(t, 'strict');
    return {
      type: 'function', name,
      ...(description !== undefined ? { description } : {}),
      ...(isObj(parameters) ? { parameters } : {}),
      ...(strict !== undefined ? { strict } : {}),
    };
  });
}

function toolChoice(v: unknown, declared: readonly FunctionTool[]): ToolChoice | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === 'auto' || v === 'none' || v === 'required') return v;
  if (typeof v === 'string') return badValue('tool_choice', "expected 'auto', 'none', 'required' or a function choice.");
  if (!isObj(v)) return badType('tool_choice', 'a string or an object', v);
  if (v.type !== 'function') return unsupported('tool_choice.type', `A tool choice of type '${String(v.type).slice(0, 64)}'`);
  const name = str(v, 'name', 'tool_choice.name', true)!;
  if (!declared.some((t) => t.name === name)) badValue('tool_choice.name', `no function named '${name.slice(0, 64)}' is declared in 'tools'.`);
  return { type: 'function', name };
}

function textFormat(v: unknown): { format?: TextFormat } | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) badType('text', 'an object', v);
  const f = v.format;
  if (f === undefined || f === null) return {};
  if (!isObj(f) || typeof f.type !== 'string') badType('text.format', "an object with a string 'type'", f);
  if (f.type === 'text' || f.type === 'json_object') return { format: { type: f.type } };
  if (f.type !== 'json_schema') badValue('text.format.type', "expected 'text', 'json_object' or 'json_schema'.");
  const name = str(f, 'name', 'text.format.name', true)!;
  if (!isObj(f.schema)) badType('text.format.schema', 'an object', f.schema);
  const strict = bool(f, 'strict');
  const description = str(f, 'description', 'text.format.description', false);
  return { format: { type: 'json_schema', name, schema: f.schema as Obj, ...(strict !== undefined ? { strict } : {}), ...(description !== undefined ? { description } : {}) } };
}

/** Fields the gateway refuses: honouring them needs machinery it does not have. */
const REFUSED: Readonly<Record<string, string>> = {
  background: 'Background mode',
  conversation: 'The conversation parameter (use previous_response_id)',
  prompt: 'Stored prompt templates',
};

/** Fields accepted and ignored, with the warning that says so. */
const IGNORED = new Set(['include', 'top_logprobs', 'safety_identifier', 'prompt_cache_key', 'stream_options', 'max_tool_calls']);

const KNOWN = new Set([
  'model', 'input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'max_output_tokens', 'temperature', 'top_p', 'stream',
  'store', 'previous_response_id', 'text', 'reasoning', 'user', 'metadata', 'service_tier', 'truncation',
]);

/** Validates the body; returns the request and the warnings for parameters accepted but not honoured. */
export function parseResponsesRequest(body: unknown, maxItems: number): { request: ResponsesRequest; warnings: string[] } {
  if (!isObj(body)) throw invalidRequest('The request body must be a JSON object.', null, 'invalid_body');
  const warnings: string[] = [];
  for (const key of Object.keys(body)) {
    if (body[key] === undefined || body[key] === null || body[key] === false) continue;
    if (key in REFUSED) unsupported(key, REFUSED[key]!);
    if (IGNORED.has(key)) warnings.push(`${key} is not supported and was ignored`);
    else if (!KNOWN.has(key)) throw invalidRequest(`Unknown parameter: '${key.slice(0, 64)}'.`, key.slice(0, 64), 'unknown_parameter');
  }
  const model = str(body, 'model', 'model', true)!;
  // eslint-disable-next-line no-control-regex
  if (model.length === 0 || model.length > MAX_MODEL_CHARS || /[\u0000-\u001f\u007f]/.test(model)) {
    badValue('model', `expected a name of 1 to ${MAX_MODEL_CHARS} characters without control characters.`);
  }
  const rawInput = body.input;
  let input: ConversationItem[];
  if (rawInput === undefined || rawInput === null) input = [];
  else if (typeof rawInput === 'string') input = [{ type: 'message', role: 'user', content: rawInput }];
  else if (Array.isArray(rawInput)) {
    if (rawInput.length > maxItems) {
      throw invalidRequest(`Invalid 'input': array too long. Expected an array with maximum length ${maxItems}, but got an array with length ${rawInput.length} instead.`, 'input', 'array_above_max_length');
    }
    input = [];
    rawInput.forEach((v, i) => {
      const it = item(v, `input[${i}]`);
      if (it === undefined) warnings.push(`input[${i}]: reasoning items are not forwarded`);
      else input.push(it);
    });
  } else badType('input', 'a string or an array of items', rawInput);
  const previous = str(body, 'previous_response_id', 'previous_response_id', false);
  if (input.length === 0 && previous === undefined) throw invalidRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  const declared = tools(body.tools);
  const maxOutput = body.max_output_tokens;
  if (maxOutput !== undefined && maxOutput !== null && (!Number.isInteger(maxOutput) || (maxOutput as number) < 1)) badType('max_output_tokens', 'an integer >= 1', maxOutput);
  const truncation = body.truncation;
  if (truncation !== undefined && truncation !== null && truncation !== 'auto' && truncation !== 'disabled') badValue('truncation', "expected 'auto' or 'disabled'.");
  if (truncation === 'auto') warnings.push("truncation 'auto' is not supported; the input is sent whole");
  const reasoning = body.reasoning;
  if (reasoning !== undefined && reasoning !== null && !isObj(reasoning)) badType('reasoning', 'an object', reasoning);
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
    ...opt('tool_choice', toolChoice(body.tool_choice, declared)),
    ...opt('parallel_tool_calls', bool(body, 'parallel_tool_calls')),
    ...opt('max_output_tokens', typeof maxOutput === 'number' ? maxOutput : undefined),
    ...opt('temperature', num(body, 'temperature', 0, 2)),
    ...opt('top_p', num(body, 'top_p', 0, 1)),
    ...opt('previous_response_id', previous),
    ...opt('text', textFormat(body.text)),
    ...opt('reasoning', effort !== undefined ? { effort } : undefined),
    ...opt('user', str(body, 'user', 'user', false)),
    ...opt('metadata', isObj(metadata) ? (metadata as Record<string, string>) : undefined),
    ...opt('service_tier', str(body, 'service_tier', 'service_tier', false)),
    ...opt('truncation', truncation === 'auto' || truncation === 'disabled' ? truncation : undefined),
  };
  return { request, warnings };
}
