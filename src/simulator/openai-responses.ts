/**
 * Simulated OpenAI Responses API (`POST /v1/responses`): the echo reply of the chat simulator (`[name] <last user text>`),
 * a forced function call (tool_choice required or naming a function) with `{}` arguments, a `web_search_call` item before
 * the answer when a built-in web_search tool is offered, max_output_tokens, and the event stream (response.created …
 * response.completed). Stateless: `previous_response_id` and `store: true` are refused, so a
 * test proves the gateway sends whole conversations.
 */
import { sseData } from '../providers/sse.js';
import type { SimCall } from './openai-chat.js';
import { invalid } from './openai-chat.js';
import type { SimReply } from './types.js';
import { contentText, limitText, makeId, pieces, wordCount } from './text.js';

type Obj = Record<string, unknown>;

function itemText(item: Obj): string {
  if (typeof item.content === 'string') return item.content;
  if (!Array.isArray(item.content)) return '';
  return contentText((item.content as Obj[]).map((p) => ({ type: 'text', text: typeof p?.text === 'string' ? p.text : '' })));
}

export function simulateResponses(call: SimCall, body: Obj): SimReply | ReturnType<typeof invalid> {
  if (body.previous_response_id !== undefined) return invalid('This simulator stores nothing: previous_response_id is not supported.', 'previous_response_id');
  if (body.store !== false) return invalid('This simulator stores nothing: send store: false.', 'store');
  const input = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  if (!Array.isArray(input) || input.length === 0) return invalid("'input' must be a string or a non-empty array", 'input');
  let last = '';
  let prompt = 0;
  for (const it of input as Obj[]) {
    const text = itemText(it ?? {});
    prompt += wordCount(text);
    if (it?.role === 'user') last = text;
  }
  const tools = Array.isArray(body.tools) ? (body.tools as Obj[]) : [];
  const choice = body.tool_choice as Obj | string | undefined;
  const tool = tools.length === 0 ? undefined
    : choice === 'required' ? String(tools[0]!.name) : typeof choice === 'object' && choice?.type === 'function' ? String(choice.name) : undefined;
  const id = makeId('resp_', call.name, call.seq, 48);
  const created = Math.floor(Date.now() / 1000);
  const limited = limitText(`[${call.name}] ${last}`, undefined, body.max_output_tokens);
  const tokens = tool === undefined ? pieces(limited.text) : ['{}'];
  const usage = { input_tokens: prompt, input_tokens_details: { cached_tokens: 0 }, output_tokens: tokens.length, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: prompt + tokens.length };
  const incomplete = tool === undefined && limited.reason === 'length';
  const item: Obj = tool === undefined
    ? { id: makeId('msg_', call.name, call.seq, 48), type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: limited.text, annotations: [] }] }
    : { id: makeId('fc_', call.name, call.seq, 48), type: 'function_call', status: 'completed', call_id: makeId('call_', call.name, call.seq), name: tool, arguments: '{}' };
  const response = (status: string, output: Obj[], withUsage: boolean): Obj => ({
    id, object: 'response', created_at: created, status, model: call.model, output, error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null, usage: withUsage ? usage : null, store: false,
  });
  // A built-in web search tool (answered by the upstream itself): a web_search_call item before the answer.
  const searched = tool === undefined && tools.some((t) => t?.type === 'web_search' || t?.type === 'web_search_preview');
  const search: Obj = { id: makeId('ws_', call.name, call.seq, 48), type: 'web_search_call', status: 'completed', action: { type: 'search', query: last } };
  const at = searched ? 1 : 0;
  const final = response(incomplete ? 'incomplete' : 'completed', searched ? [search, item] : [item], true);
  if (body.stream !== true) return { kind: 'json', status: 200, body: final };

  let seq = 0;
  const ev = (type: string, fields: Obj): string => `event: ${type}\n${sseData(JSON.stringify({ type, ...fields, sequence_number: seq++ }))}`;
  const frames = [ev('response.created', { response: response('in_progress', [], false) }), ev('response.in_progress', { response: response('in_progress', [], false) })];
  if (searched) {
    frames.push(ev('response.output_item.added', { output_index: 0, item: { ...search, status: 'in_progress' } }));
    for (const phase of ['in_progress', 'searching', 'completed']) frames.push(ev(`response.web_search_call.${phase}`, { output_index: 0, item_id: search.id }));
    frames.push(ev('response.output_item.done', { output_index: 0, item: search }));
  }
  if (tool === undefined) {
    frames.push(ev('response.output_item.added', { output_index: at, item: { ...item, status: 'in_progress', content: [] } }));
    frames.push(ev('response.content_part.added', { item_id: item.id, output_index: at, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }));
    for (const t of tokens) frames.push(ev('response.output_text.delta', { item_id: item.id, output_index: at, content_index: 0, delta: t }));
    frames.push(ev('response.output_text.done', { item_id: item.id, output_index: at, content_index: 0, text: limited.text }));
  } else {
    frames.push(ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', arguments: '' } }));
    frames.push(ev('response.function_call_arguments.delta', { item_id: item.id, output_index: 0, delta: '{}' }));
    frames.push(ev('response.function_call_arguments.done', { item_id: item.id, output_index: 0, arguments: '{}' }));
  }
  frames.push(ev('response.output_item.done', { output_index: at, item }));
  frames.push(ev(incomplete ? 'response.incomplete' : 'response.completed', { response: final }));
  const errorFrame = ev('error', { code: 'server_error', message: 'The server had an error while processing your request.', param: null });
  return { kind: 'stream', frames, errorFrame };
}
