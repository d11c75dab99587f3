/**
 * A Responses API reply as a chat completion (the internal reply every stage reads): the text of message items as the
 * content, refusals as the refusal, function_call items as tool calls; the status gives the finish reason; usage takes the
 * chat names. Pure.
 */
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Responses usage in chat's names (with the detail counts the gateway reads). */
export function chatUsage(u: unknown): Obj | undefined {
  if (!isObj(u)) return undefined;
  const prompt = count(u.input_tokens);
  const completion = count(u.output_tokens);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: typeof u.total_tokens === 'number' ? u.total_tokens : prompt + completion,
    prompt_tokens_details: { cached_tokens: count((u.input_tokens_details as Obj | undefined)?.cached_tokens) },
    completion_tokens_details: { reasoning_tokens: count((u.output_tokens_details as Obj | undefined)?.reasoning_tokens) },
  };
}

/** The chat finish reason for a response's status (and whether it called tools). */
export function finishReason(response: Obj, calledTools: boolean): string {
  if (response.status === 'incomplete') {
    return (response.incomplete_details as Obj | undefined)?.reason === 'content_filter' ? 'content_filter' : 'length';
  }
  return calledTools ? 'tool_calls' : 'stop';
}

export function chatCompletionOf(response: Obj): Obj {
  let content = '';
  let refusal = '';
  const toolCalls: Obj[] = [];
  for (const item of Array.isArray(response.output) ? response.output : []) {
    if (!isObj(item)) continue;
    if (item.type === 'message' && Array.isArray(item.content)) {
      for (const c of item.content as Obj[]) {
        if (c?.type === 'output_text' && typeof c.text === 'string') content += c.text;
        else if (c?.type === 'refusal' && typeof c.refusal === 'string') refusal += c.refusal;
      }
    } else if (item.type === 'function_call') {
      toolCalls.push({ id: String(item.call_id ?? ''), type: 'function', function: { name: String(item.name ?? ''), arguments: typeof item.arguments === 'string' ? item.arguments : '' } });
    }
  }
  const message: Obj = { role: 'assistant', content: content.length > 0 || toolCalls.length === 0 ? content : null, refusal: refusal.length > 0 ? refusal : null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const usage = chatUsage(response.usage);
  return {
    id: String(response.id ?? ''),
    object: 'chat.completion',
    created: count(response.created_at),
    model: String(response.model ?? ''),
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(response, toolCalls.length > 0) }],
    ...(usage ? { usage } : {}),
  };
}
