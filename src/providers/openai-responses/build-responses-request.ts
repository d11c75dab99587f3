/**
 * The internal request (an OpenAI chat-completions body) as a Responses API request, for upstreams configured with
 * `responses: true`: messages become input items (assistant tool calls function_call items, tool messages
 * function_call_output items), function tools and tool_choice take the flat Responses shape, max_(completion_)tokens becomes
 * max_output_tokens, response_format becomes text.format. The upstream never stores state (`store: false`): the gateway sends
 * the whole conversation. Chat parameters the Responses API has no place for are reported as warnings, never dropped quietly.
 */
import { invalidRequest, quoted } from '../../errors.js';
import { warningList } from '../../llm/warnings.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Chat parameters with no Responses counterpart (reported when set). */
const NO_COUNTERPART = ['stop', 'logprobs', 'top_logprobs', 'seed', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'audio', 'modalities', 'prediction'];

/**
 * A chat message's content as Responses content: text, images (`input_image`) and files (`input_file`: data, id, name). A part
 * with no Responses counterpart (audio, say) is not sent, and named in `warnings`, rather than sent as empty text.
 */
function inputContent(content: unknown, role: string, param: string, warnings: string[]): unknown {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const text = role === 'assistant' ? 'output_text' : 'input_text';
  const out: Obj[] = [];
  content.forEach((raw: unknown, j) => {
    const p = isObj(raw) ? raw : {};
    if (p.type === 'image_url' && isObj(p.image_url)) {
      const { url, detail } = p.image_url;
      out.push({ type: 'input_image', image_url: url, ...(detail !== undefined ? { detail } : {}) });
    } else if (p.type === 'file' && isObj(p.file) && (typeof p.file.file_data === 'string' || typeof p.file.file_id === 'string')) {
      const { file_data: data, file_id: id, filename } = p.file;
      out.push({
        type: 'input_file', ...(typeof data === 'string' ? { file_data: data } : {}), ...(typeof id === 'string' ? { file_id: id } : {}),
        ...(typeof filename === 'string' ? { filename } : {}),
      });
    } else if (p.type === 'text' || typeof p.text === 'string') {
      out.push({ type: text, text: typeof p.text === 'string' ? p.text : '' });
    } else {
      warnings.push(`${param}[${j}]: content of type '${quoted(p.type)}' is not supported by the Responses API upstream and was not sent`);
    }
  });
  return out;
}

const textOf = (content: unknown): string =>
  (typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: Obj) => (typeof p?.text === 'string' ? p.text : '')).join('') : '');

/** An assistant turn's tool calls as function_call items; a call without a string id and function name is the caller's 400. */
function callItems(toolCalls: unknown, param: string): Obj[] {
  if (!Array.isArray(toolCalls)) return [];
  return toolCalls.map((call: unknown, j) => {
    const fn = isObj(call) && isObj(call.function) ? call.function : undefined;
    if (!isObj(call) || typeof call.id !== 'string' || typeof fn?.name !== 'string') {
      throw invalidRequest('tool calls need an id and a function name', `${param}.tool_calls[${j}]`);
    }
    return { type: 'function_call', call_id: call.id, name: fn.name, arguments: typeof fn.arguments === 'string' ? fn.arguments : '' };
  });
}

function inputItems(messages: unknown[], warnings: string[]): Obj[] {
  const items: Obj[] = [];
  messages.forEach((raw, i) => {
    if (!isObj(raw)) return;
    const role = String(raw.role);
    if (role === 'tool') {
      if (typeof raw.tool_call_id !== 'string') throw invalidRequest('tool messages need tool_call_id', `messages[${i}].tool_call_id`);
      items.push({ type: 'function_call_output', call_id: raw.tool_call_id, output: textOf(raw.content) });
      return;
    }
    if (role === 'assistant') {
      const text = textOf(raw.content);
      if (text.length > 0) items.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
      for (const call of callItems(raw.tool_calls, `messages[${i}]`)) items.push(call);
      return;
    }
    items.push({ type: 'message', role: role === 'function' ? 'user' : role, content: inputContent(raw.content, role, `messages[${i}].content`, warnings) });
  });
  return items;
}

function tool(t: unknown): Obj | undefined {
  if (!isObj(t) || t.type !== 'function' || !isObj(t.function)) return undefined;
  const { name, description, parameters, strict } = t.function;
  return { type: 'function', name, ...(description !== undefined ? { description } : {}), ...(parameters !== undefined ? { parameters } : {}), ...(strict !== undefined ? { strict } : {}) };
}

function textFormat(f: unknown): Obj | undefined {
  if (!isObj(f)) return undefined;
  if (f.type === 'json_object') return { format: { type: 'json_object' } };
  if (f.type === 'json_schema' && isObj(f.json_schema)) return { format: { type: 'json_schema', ...f.json_schema } };
  return undefined;
}

/** The Responses body for `model`, and the warnings for chat parameters it cannot carry. */
export function buildResponsesRequest(body: Readonly<Obj>, model: string, stream: boolean): { request: Obj; warnings: string[] } {
  const warnings = warningList();
  for (const k of NO_COUNTERPART) if (body[k] !== undefined && body[k] !== null && body[k] !== false) warnings.push(`${k} is not supported by the Responses API upstream and was not sent`);
  if (typeof body.n === 'number' && body.n > 1) warnings.push('n > 1 is not supported by the Responses API upstream: one choice was asked for');
  const request: Obj = { model, input: inputItems(Array.isArray(body.messages) ? body.messages : [], warnings), store: false };
  if (stream) request.stream = true;
  const tools = Array.isArray(body.tools) ? body.tools.map(tool).filter((t): t is Obj => t !== undefined) : [];
  if (tools.length > 0) request.tools = tools;
  const choice = body.tool_choice;
  if (typeof choice === 'string') request.tool_choice = choice;
  else if (isObj(choice) && isObj(choice.function)) request.tool_choice = { type: 'function', name: choice.function.name };
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max === 'number') request.max_output_tokens = max;
  for (const k of ['temperature', 'top_p', 'user', 'parallel_tool_calls', 'service_tier', 'metadata']) if (body[k] !== undefined && body[k] !== null) request[k] = body[k];
  if (typeof body.reasoning_effort === 'string') request.reasoning = { effort: body.reasoning_effort };
  const text = textFormat(body.response_format);
  if (text) request.text = text;
  return { request, warnings: Array.from(warnings) };
}
