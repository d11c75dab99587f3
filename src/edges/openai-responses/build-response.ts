/**
 * The Response object from what the pipeline answered (a chat completion, or the parts of a streamed one as gathered by the
 * stream encoder): output items, status from the finish reason, usage in the Responses names. Pure functions; ids are random.
 */
import { randomBytes } from 'node:crypto';
import type { ConversationItem, OutputItem, ResponseObject, ResponseUsage, ResponsesRequest } from './responses-api.js';

type Obj = Record<string, unknown>;

/** A new item or response id: the prefix and 48 random hex digits (unguessable; the store also keys by tenant). */
export const newId = (prefix: 'resp' | 'msg' | 'fc'): string => `${prefix}_${randomBytes(24).toString('hex')}`;

/**
 * What a response id looks like (the gateway's own, or a Responses upstream's passed through); anything else is neither looked
 * up nor stored. Ids are not secrets: records are keyed by tenant.
 */
export const RESPONSE_ID = /^resp_[A-Za-z0-9_-]{1,200}$/;

/** The response as created, before any output (status in_progress). */
export function startResponse(req: ResponsesRequest, id: string, createdAt: number): ResponseObject {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    model: req.model,
    output: [],
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id ?? null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: null },
    service_tier: req.service_tier ?? null,
    store: req.store,
    temperature: req.temperature ?? null,
    text: { format: req.text?.format ?? { type: 'text' } },
    tool_choice: req.tool_choice ?? 'auto',
    tools: req.tools,
    top_p: req.top_p ?? null,
    truncation: req.truncation ?? 'disabled',
    usage: null,
    user: req.user ?? null,
    metadata: req.metadata ?? {},
  };
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Chat usage (prompt/completion tokens and their details) in the Responses names. */
export function responseUsage(u: unknown): ResponseUsage | null {
  if (u === null || typeof u !== 'object') return null;
  const usage = u as Obj;
  const input = count(usage.prompt_tokens);
  const output = count(usage.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: count((usage.prompt_tokens_details as Obj | undefined)?.cached_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: count((usage.completion_tokens_details as Obj | undefined)?.reasoning_tokens) },
    total_tokens: typeof usage.total_tokens === 'number' ? usage.total_tokens : input + output,
  };
}

/** The status a chat finish reason gives the response and its open items. */
export function finishOf(reason: unknown): Pick<ResponseObject, 'status' | 'incomplete_details'> {
  if (reason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (reason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** A finished response from a chat.completion body (first choice). */
export function fromChatCompletion(start: ResponseObject, completion: Obj): ResponseObject {
  const choice = (Array.isArray(completion.choices) ? completion.choices[0] : undefined) as Obj | undefined;
  const message = (choice?.message ?? {}) as Obj;
  const finish = finishOf(choice?.finish_reason);
  const itemStatus = finish.status === 'completed' ? 'completed' : 'incomplete';
  const output: OutputItem[] = [];
  const content: Extract<OutputItem, { type: 'message' }>['content'] = [];
  if (typeof message.content === 'string' && message.content.length > 0) content.push({ type: 'output_text', text: message.content, annotations: [], logprobs: [] });
  if (typeof message.refusal === 'string' && message.refusal.length > 0) content.push({ type: 'refusal', refusal: message.refusal });
  if (content.length > 0) output.push({ type: 'message', id: newId('msg'), status: itemStatus, role: 'assistant', content });
  for (const call of Array.isArray(message.tool_calls) ? (message.tool_calls as Obj[]) : []) {
    const fn = (call.function ?? {}) as Obj;
    output.push({
      type: 'function_call', id: newId('fc'), call_id: String(call.id ?? newId('fc')), name: String(fn.name ?? ''),
      arguments: typeof fn.arguments === 'string' ? fn.arguments : '', status: 'completed',
    });
  }
  return { ...start, ...finish, output, usage: responseUsage(completion.usage) };
}

/** Output items as conversation items, for the stored conversation a later previous_response_id continues. */
export function asConversation(output: readonly OutputItem[]): ConversationItem[] {
  const items: ConversationItem[] = [];
  for (const it of output) {
    if (it.type === 'function_call') items.push({ type: 'function_call', call_id: it.call_id, name: it.name, arguments: it.arguments });
    else items.push({ type: 'message', role: 'assistant', content: it.content.map((c) => (c.type === 'refusal' ? c : { type: 'output_text' as const, text: c.text })) });
  }
  return items;
}
