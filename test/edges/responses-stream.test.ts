import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startResponse } from '../../src/edges/openai-responses/build-response.js';
import type { ResponseObject } from '../../src/edges/openai-responses/responses-api.js';
import { ResponsesStreamEncoder } from '../../src/edges/openai-responses/responses-stream.js';
import type { StreamPart } from '../../src/llm/parts.js';
import { responsesStreamParts } from '../../src/providers/openai-responses/responses-stream.js';
import type { SseEvent } from '../../src/providers/sse.js';
import { GatewayError } from '../../src/errors.js';
import { MAX_REPLY_BODY } from '../../src/providers/http.js';

const start = startResponse({ model: 'm', input: [], tools: [], stream: true, store: true }, 'resp_x', 1);

async function encode(parts: StreamPart[]): Promise<{ events: any[]; stored: ResponseObject[] }> {
  const stored: ResponseObject[] = [];
  const enc = new ResponsesStreamEncoder(start, async (r) => void stored.push(r));
  let text = '';
  for (const p of parts) text += await enc.encode(p);
  const events = text.split('\n\n').filter(Boolean).map((e) => {
    const [head, data] = e.split('\n');
    const ev = JSON.parse(data!.slice(6));
    assert.equal(head, `event: ${ev.type}`);
    return ev;
  });
  return { events, stored };
}

describe('typed parts → Responses events', () => {
  it('refuses output past the largest reply the gateway accepts instead of keeping it all for response.completed', () => {
    const enc = new ResponsesStreamEncoder(start, async () => undefined);
    const piece = 'x'.repeat(1024 * 1024);
    let sent = 0;
    let refused: unknown;
    try {
      for (; sent <= 2 * MAX_REPLY_BODY / piece.length; sent++) enc.encode({ type: 'text-delta', choice: 0, text: piece });
    } catch (err) {
      refused = err;
    }
    assert.ok(refused instanceof GatewayError && refused.code === 'reply_too_large', 'the stream was refused');
    assert.ok(sent <= MAX_REPLY_BODY / piece.length + 1, `no further than the bound (${sent} pieces)`);
  });

  it('text, then a refusal, then a tool call: separate parts and items, closed in order', async () => {
    const { events, stored } = await encode([
      { type: 'metadata', id: 'up', model: 'm', created: 1 },
      { type: 'text-delta', choice: 0, text: 'Hi' },
      { type: 'text-delta', choice: 1, text: 'other choice' },
      { type: 'refusal-delta', choice: 0, text: 'no' },
      { type: 'tool-call-start', choice: 0, index: 0, id: 'call_1', name: 'f' },
      { type: 'tool-call-delta', choice: 0, index: 0, argsDelta: '{"a"' },
      { type: 'tool-call-delta', choice: 0, index: 0, argsDelta: ':1}' },
      { type: 'tool-call-end', choice: 0, index: 0 },
      { type: 'finish', choice: 0, reason: 'tool_calls' },
      { type: 'usage', usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }, hidden: true },
      { type: 'done' },
    ]);
    assert.deepEqual(events.map((e) => e.type), [
      'response.created', 'response.in_progress',
      'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.content_part.added', 'response.refusal.delta',
      'response.refusal.done', 'response.content_part.done', 'response.output_item.done',
      'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.delta',
      'response.function_call_arguments.done', 'response.output_item.done',
      'response.completed',
    ]);
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
    const final = events.at(-1).response;
    assert.deepEqual(final.output[0].content, [{ type: 'output_text', text: 'Hi', annotations: [], logprobs: [] }, { type: 'refusal', refusal: 'no' }]);
    assert.deepEqual({ ...final.output[1], id: 'x' }, { type: 'function_call', id: 'x', call_id: 'call_1', name: 'f', arguments: '{"a":1}', status: 'completed' });
    assert.equal(final.usage.total_tokens, 7);
    assert.deepEqual(stored, [final], 'stored before response.completed went out');
  });

  it('a length finish makes the response incomplete; an error part ends with an error event and stores nothing', async () => {
    const cut = await encode([{ type: 'text-delta', choice: 0, text: 'par' }, { type: 'finish', choice: 0, reason: 'length' }, { type: 'done' }]);
    assert.equal(cut.events.at(-1).type, 'response.incomplete');
    assert.deepEqual(cut.events.at(-1).response.incomplete_details, { reason: 'max_output_tokens' });
    const broken = await encode([{ type: 'text-delta', choice: 0, text: 'par' }, { type: 'error', failure: { message: 'gone', type: 'upstream_error', code: 'upstream_stream_interrupted' } }]);
    assert.deepEqual(broken.events.at(-1), { type: 'error', code: 'upstream_stream_interrupted', message: 'gone', param: null, sequence_number: broken.events.length - 1 });
    assert.equal(broken.stored.length, 0);
  });
});

async function partsOf(events: object[], hideUsage = true): Promise<StreamPart[]> {
  async function* sse(): AsyncGenerator<SseEvent> {
    for (const e of events) yield { event: (e as { type: string }).type, data: JSON.stringify(e) } as SseEvent;
  }
  const out: StreamPart[] = [];
  for await (const p of responsesStreamParts(sse(), hideUsage, (s) => s)) out.push(p);
  return out;
}

describe('Responses events from an upstream → typed parts', () => {
  it('reads identity, text, function calls, finish and usage', async () => {
    const parts = await partsOf([
      { type: 'response.created', response: { id: 'resp_u', model: 'gpt-5', created_at: 9 } },
      { type: 'response.output_text.delta', output_index: 0, delta: 'Hel' },
      { type: 'response.output_item.added', output_index: 1, item: { type: 'function_call', call_id: 'c', name: 'f' } },
      { type: 'response.function_call_arguments.delta', output_index: 1, delta: '{}' },
      { type: 'response.output_item.done', output_index: 1, item: { type: 'function_call' } },
      { type: 'response.completed', response: { status: 'completed', usage: { input_tokens: 2, output_tokens: 3, total_tokens: 5 } } },
    ]);
    assert.deepEqual(parts.map((p) => p.type), ['metadata', 'text-delta', 'tool-call-start', 'tool-call-delta', 'tool-call-end', 'finish', 'usage', 'done']);
    assert.deepEqual(parts[0], { type: 'metadata', id: 'resp_u', model: 'gpt-5', created: 9 });
    assert.deepEqual(parts[2], { type: 'tool-call-start', choice: 0, index: 0, id: 'c', name: 'f' });
    assert.deepEqual(parts[5], { type: 'finish', choice: 0, reason: 'tool_calls' });
    assert.equal((parts[6] as any).hidden, true);
  });

  it('a failed response or an error event is an error part', async () => {
    const failed = await partsOf([{ type: 'response.failed', response: { error: { code: 'server_error', message: 'boom' } } }]);
    assert.deepEqual(failed, [{ type: 'error', failure: { message: 'boom', type: 'upstream_error', code: 'server_error' } }]);
    const error = await partsOf([{ type: 'error', code: 'rate_limit_exceeded', message: 'slow down' }]);
    assert.equal(error[0]!.type === 'error' && error[0]!.failure.code, 'rate_limit_exceeded');
  });
});
