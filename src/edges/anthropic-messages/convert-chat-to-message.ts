/**
 * The internal reply (an OpenAI chat.completion) → an Anthropic Messages response: reasoning becomes a thinking block,
 * content a text block, tool calls tool_use blocks (arguments parsed back into `input`), finish_reason the stop_reason,
 * usage Anthropic's (cached prompt tokens split out of input_tokens, as Anthropic counts them).
 */
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** OpenAI finish_reason → Anthropic stop_reason. */
export function stopReasonOf(finish: unknown): string | null {
  switch (finish) {
    case 'length': return 'max_tokens';
    case 'tool_calls':
    case 'function_call': return 'tool_use';
    case 'content_filter': return 'refusal';
    case null:
    case undefined: return null;
    default: return 'end_turn';
  }
}

export interface AnthropicUsageOut {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number;
}

/** OpenAI usage → Anthropic usage (0s when the upstream reported none). */
export function usageOf(u: unknown): AnthropicUsageOut {
  const usage = isObj(u) ? u : {};
  const prompt = typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : 0;
  const completion = typeof usage.completion_tokens === 'number' ? usage.completion_tokens : 0;
  const details = isObj(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const cached = typeof details.cached_tokens === 'number' ? Math.min(details.cached_tokens, prompt) : 0;
  return cached > 0
    ? { input_tokens: prompt - cached, output_tokens: completion, cache_read_input_tokens: cached }
    : { input_tokens: prompt, output_tokens: completion };
}

/** An Anthropic message id: the upstream's own when it is one, else derived from the upstream id. */
export function messageId(id: unknown): string {
  const s = typeof id === 'string' && id !== '' ? id : `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
  return s.startsWith('msg_') ? s : `msg_${s}`;
}

/** A tool call's arguments → tool_use input; arguments that are not a JSON object are kept under `_raw` (and warned of). */
export function toolInput(args: unknown, warnings: string[]): Obj {
  if (typeof args !== 'string' || args.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(args);
    if (isObj(v)) return v;
  } catch {
    /* reported below */
  }
  warnings.push('a tool call whose arguments were not a JSON object was returned under input._raw');
  return { _raw: args };
}

export function convertChatToMessage(chat: Obj, requestedModel: string, warnings: string[]): Obj {
  const choice = Array.isArray(chat.choices) && isObj(chat.choices[0]) ? chat.choices[0] : {};
  const message = isObj(choice.message) ? choice.message : {};
  const content: Obj[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === 'string' && reasoning !== '') content.push({ type: 'thinking', thinking: reasoning, signature: '' });
  if (typeof message.content === 'string' && message.content !== '') content.push({ type: 'text', text: message.content });
  else if (typeof message.refusal === 'string' && message.refusal !== '') content.push({ type: 'text', text: message.refusal });
  if (Array.isArray(message.tool_calls)) {
    for (const raw of message.tool_calls) {
      const call = isObj(raw) ? raw : {};
      const fn = isObj(call.function) ? call.function : {};
      content.push({ type: 'tool_use', id: String(call.id ?? ''), name: String(fn.name ?? ''), input: toolInput(fn.arguments, warnings) });
    }
  }
  return {
    id: messageId(chat.id),
    type: 'message',
    role: 'assistant',
    model: typeof chat.model === 'string' && chat.model !== '' ? chat.model : requestedModel,
    content,
    stop_reason: stopReasonOf(choice.finish_reason) ?? 'end_turn',
    stop_sequence: null,
    usage: usageOf(chat.usage),
  };
}
