/**
 * A Responses request as the internal request (an OpenAI chat-completions body), so the same pipeline — rules, cache, safety,
 * governance, fallbacks, cascades — serves it: instructions become the system message, conversation items become chat
 * messages (consecutive function calls one assistant turn with tool calls, function outputs tool messages), function tools and
 * tool_choice take chat's nested shape, max_output_tokens becomes max_completion_tokens, text.format becomes response_format.
 */
import type { ConversationItem, FunctionTool, InputContent, ResponsesRequest, TextFormat, ToolChoice } from './responses-api.js';

type Obj = Record<string, unknown>;

interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

function chatContent(content: string | InputContent[]): string | Obj[] {
  if (typeof content === 'string') return content;
  // All-text content collapses to one string: every provider takes it, and it keys the cache like the same chat request.
  if (content.every((p) => p.type !== 'input_image')) return content.map((p) => (p.type === 'refusal' ? p.refusal : p.text)).join('');
  return content.map((p): Obj => {
    switch (p.type) {
      case 'input_image': return { type: 'image_url', image_url: { url: p.image_url, ...(p.detail ? { detail: p.detail } : {}) } };
      case 'refusal': return { type: 'text', text: p.refusal };
      default: return { type: 'text', text: p.text };
    }
  });
}

/** Conversation items → chat messages (instructions first, as the system message). */
export function toChatMessages(instructions: string | undefined, items: readonly ConversationItem[]): Obj[] {
  const messages: Obj[] = [];
  if (instructions !== undefined && instructions.length > 0) messages.push({ role: 'system', content: instructions });
  // The assistant turn that function calls attach to: the one just added, while nothing else followed it.
  let assistant: (Obj & { tool_calls?: ChatToolCall[] }) | undefined;
  for (const it of items) {
    if (it.type === 'function_call') {
      if (assistant === undefined) messages.push((assistant = { role: 'assistant', content: null }));
      (assistant.tool_calls ??= []).push({ id: it.call_id, type: 'function', function: { name: it.name, arguments: it.arguments } });
      continue;
    }
    if (it.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: it.call_id, content: it.output });
      assistant = undefined;
      continue;
    }
    const m: Obj = { role: it.role, content: chatContent(it.content) };
    messages.push(m);
    assistant = it.role === 'assistant' ? m : undefined;
  }
  return messages;
}

const chatTool = (t: FunctionTool): Obj => ({
  type: 'function',
  function: {
    name: t.name,
    ...(t.description !== undefined ? { description: t.description } : {}),
    ...(t.parameters !== undefined ? { parameters: t.parameters } : {}),
    ...(t.strict !== undefined ? { strict: t.strict } : {}),
  },
});

const chatToolChoice = (c: ToolChoice): unknown => (typeof c === 'string' ? c : { type: 'function', function: { name: c.name } });

function responseFormat(f: TextFormat): Obj | undefined {
  if (f.type === 'text') return undefined;
  if (f.type === 'json_object') return { type: 'json_object' };
  const { name, schema, strict, description } = f;
  return { type: 'json_schema', json_schema: { name, schema, ...(strict !== undefined ? { strict } : {}), ...(description !== undefined ? { description } : {}) } };
}

/**
 * The chat body for a request whose conversation so far is `history` (the stored items of previous_response_id, empty
 * without one). Instructions are the request's own: a previous response's instructions are not carried over (as the API does).
 */
export function toChatRequest(req: ResponsesRequest, history: readonly ConversationItem[]): Obj {
  const body: Obj = { model: req.model, messages: toChatMessages(req.instructions, [...history, ...req.input]) };
  if (req.stream) body.stream = true;
  if (req.tools.length > 0) body.tools = req.tools.map(chatTool);
  if (req.tool_choice !== undefined) body.tool_choice = chatToolChoice(req.tool_choice);
  if (req.parallel_tool_calls !== undefined && req.tools.length > 0) body.parallel_tool_calls = req.parallel_tool_calls;
  if (req.max_output_tokens !== undefined) body.max_completion_tokens = req.max_output_tokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.top_p !== undefined) body.top_p = req.top_p;
  if (req.user !== undefined) body.user = req.user;
  if (req.service_tier !== undefined) body.service_tier = req.service_tier;
  if (req.reasoning?.effort !== undefined) body.reasoning_effort = req.reasoning.effort;
  const format = req.text?.format && responseFormat(req.text.format);
  if (format) body.response_format = format;
  return body;
}
