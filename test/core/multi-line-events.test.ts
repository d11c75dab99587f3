/**
 * An upstream may split an SSE event's data over several `data:` lines; the parser joins them with '\n' (as the SSE
 * standard says), and an edge that forwards the event must write each of those lines as a `data:` line of its own, or the
 * client reads the second line as a field of its own and the event's data broken. Each edge's pass-through, through a
 * real gateway and a scripted upstream whose every event is written one JSON key to a line.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { parseSse } from '../../src/providers/sse.js';
import { scriptedUpstreamSuite } from '../helpers/scripted-upstream.js';

const SSE = { 'content-type': 'text/event-stream' };

/** An event's JSON with each key on a line of its own: the data an upstream sends on several `data:` lines. */
const multiLine = (value: unknown): string => JSON.stringify(value).replace(/,"/g, ',\n"');
/** The upstream's bytes for events of `[name, data]`: one `data:` line per line of the data. */
const upstreamBytes = (events: Array<[string | undefined, string]>): string[] => events.map(([name, data]) =>
  `${name === undefined ? '' : `event: ${name}\n`}${data.split('\n').map((line) => `data: ${line}\n`).join('')}\n`);

/** The data of each event the client received, read by an SSE parser. */
async function dataOf(res: Response): Promise<string[]> {
  const out: string[] = [];
  for await (const e of parseSse(res.body as unknown as AsyncIterable<Uint8Array>)) out.push(e.data);
  return out;
}

const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
  multiLine({ id: 'chatcmpl-m', object: 'chat.completion.chunk', created: 1, model: 'm', choices, ...extra });

const message = (type: string, fields: Record<string, unknown>): [string, string] => [type, multiLine({ type, ...fields })];
const anthropicEvents: Array<[string, string]> = [
  message('message_start', { message: { id: 'msg_01m', type: 'message', role: 'assistant', model: 'claude-m', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } } }),
  message('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  message('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'two' } }),
  message('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' lines' } }),
  message('content_block_stop', { index: 0 }),
  message('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } }),
  message('message_stop', {}),
];

const item = { id: 'msg_m', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'two lines', annotations: [] }] };
const response = (status: string, output: unknown[], usage: unknown) =>
  ({ id: 'resp_m', object: 'response', created_at: 1, status, model: 'r', output, error: null, incomplete_details: null, usage, store: false });
const responsesEvents: Array<[string, string]> = [
  ['response.created', { response: response('in_progress', [], null) }],
  ['response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } }],
  ['response.content_part.added', { item_id: 'msg_m', output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }],
  ['response.output_text.delta', { item_id: 'msg_m', output_index: 0, content_index: 0, delta: 'two' }],
  ['response.output_text.delta', { item_id: 'msg_m', output_index: 0, content_index: 0, delta: ' lines' }],
  ['response.output_text.done', { item_id: 'msg_m', output_index: 0, content_index: 0, text: 'two lines' }],
  ['response.output_item.done', { output_index: 0, item }],
  ['response.completed', { response: response('completed', [item], { input_tokens: 3, output_tokens: 2, total_tokens: 5 }) }],
].map(([type, fields], i) => [type as string, multiLine({ type, ...(fields as object), sequence_number: i })]);

describe('upstream events whose data spans several lines', () => {
  const suite = scriptedUpstreamSuite();
  const start = () => suite.start({
    providers: {
      p: { kind: 'openai', base_url: suite.up.url, models: ['m'], keys: [{ id: 'k1', value: 'key-k1' }] },
      r: { kind: 'openai', base_url: suite.up.url, models: ['r'], keys: [{ id: 'k1', value: 'key-k1' }], responses: true },
      a: { kind: 'anthropic', base_url: suite.up.url, models: ['claude-m'], keys: [{ id: 'k1', value: 'key-k1' }] },
    },
  });

  it('OpenAI chat: the client reads each event\'s data as the upstream sent it', async () => {
    const gw = await start();
    const events: Array<[undefined, string]> = [
      [undefined, chunk([{ index: 0, delta: { role: 'assistant', content: 'two' }, finish_reason: null }])],
      [undefined, chunk([{ index: 0, delta: { content: ' lines' }, finish_reason: 'stop' }])],
      [undefined, chunk([], { usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })],
      [undefined, '[DONE]'],
    ];
    suite.up.scriptModel('m', { headers: SSE, chunks: upstreamBytes(events) });
    const body = { model: 'p/m', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } };
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body: JSON.stringify(body) });
    assert.deepEqual(await dataOf(res), events.map(([, d]) => d));
    const ai = new OpenAI({ apiKey: 'sk-test', baseURL: `${gw.url}/v1`, maxRetries: 0 });
    let text = '';
    for await (const c of await ai.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'hi' }], stream: true })) text += c.choices[0]?.delta.content ?? '';
    assert.equal(text, 'two lines');
  });

  it('Anthropic messages: the client reads each event\'s data as the upstream sent it', async () => {
    const gw = await start();
    suite.up.scriptModel('claude-m', { headers: SSE, chunks: upstreamBytes(anthropicEvents) });
    const body = { model: 'a/claude-m', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }], stream: true };
    const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'sk-test', 'anthropic-version': '2023-06-01' }, body: JSON.stringify(body) });
    assert.deepEqual(await dataOf(res), anthropicEvents.map(([, d]) => d));
    const sdk = new Anthropic({ apiKey: 'sk-test', baseURL: gw.url, maxRetries: 0 });
    const msg = await sdk.messages.stream({ model: 'a/claude-m', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    assert.equal(msg.content[0]?.type === 'text' ? msg.content[0].text : '', 'two lines');
  });

  it('Responses pass-through: the client reads each event\'s data as the upstream sent it', async () => {
    const gw = await start();
    suite.up.scriptModel('r', { headers: SSE, chunks: upstreamBytes(responsesEvents) });
    const body = { model: 'r/r', input: 'hi', stream: true };
    const res = await fetch(`${gw.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body: JSON.stringify(body) });
    assert.deepEqual(await dataOf(res), responsesEvents.map(([, d]) => d));
  });
});
