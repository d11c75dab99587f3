/**
 * The internal request (an OpenAI chat-completions body) as a Responses API request, for upstreams configured with
 * `responses: true`: messages become input items (assistant tool calls function_call items, tool messages
 * function_call_output items), function tools and tool_choice take the flat Responses shape, max_(completion_)tokens becomes
 * max_output_tokens, response_format becomes text.format. The upstream never stores state (`store: false`): the gateway sends
 * the whole conversation. Chat parameters the Responses API has no place for are reported as warnings, never dropped quietly.
 */
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Chat parameters with no Responses counterpart (reported when set). */
const NO_COUNTERPART = ['stop', 'logprobs', 'top_logprobs', 'seed', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'audio', 'modalities', 'prediction'];

function inputContent(content: unknown, role: string): unknown {
  if (typeof content === 'string' || !Array.isArray(content)) return typeof content === 'string' ? content : '';
  const text = role === 'assistant' ? 'output_text' : 'input_text';
  return content.map((p: Obj) => {
    if (p?.type === 'image_url' && isObj(p.image_url)) {
      const { url, detail } = p.image_url as { url?: unknown; detail?: unknown };
      return { type: 'input_image', image_url: url, ...(detail !== undefined ? { detail } : {}) };
    }
    return { type: text, text: typeof p?.text === 'string' ? p.text : '' };
  });
}

const textOf = (content: unknown): string =>
  (typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: Obj) => (typeof p?.text === 'string' ? p.text : '')).join('') : '');

function inputItems(messages: unknown[]): Obj[] {
  const items: Obj[] = [];
  for (const raw of messages) {
    if (!isObj(raw)) continue;
    const role = String(raw.role);
    if (role === 'tool') {
      items.push({ type: 'function_call_output', call_id: String(raw.tool_call_id ?? ''), output: textOf(raw.content) });
      continue;
    }
    if (role === 'assistant') {
      const text = textOf(raw.content);
      if (text.length > 0) items.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
      for (const call of Array.isArray(raw.tool_calls) ? (raw.tool_calls as Obj[]) : []) {
        const fn = isObj(call.function) ? call.function : {};
        items.push({ type: 'function_call', call_id: String(call.id ?? ''), name: String(fn.name ?? ''), arguments: typeof fn.arguments === 'string' ? fn.arguments : '' });
      }
      continue;
    }
    items.push({ type: 'message', role: role === 'function' ? 'user' : role, content: inputContent(raw.content, role) });
  }
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
  const warnings: string[] = [];
  for (const k of NO_COUNTERPART) if (body[k] !== undefined && body[k] !== null && body[k] !== false) warnings.push(`${k} is not supported by the Responses API upstream and was not sent`);
  if (typeof body.n === 'number' && body.n > 1) warnings.push('n > 1 is not supported by the Responses API upstream: one choice was asked for');
  const request: Obj = { model, input: inputItems(Array.isArray(body.messages) ? body.messages : []), store: false };
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
  return { request, warnings };
}
