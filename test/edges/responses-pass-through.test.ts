/**
 * The Responses pass-through encoder over parts the Responses adapter's reader made with their events kept: unchanged
 * parts leave as the upstream's bytes (events the gateway does not model included), the terminal event only after the
 * response was stored, a changed delta as a delta event of the upstream's item, and an upstream error never verbatim.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponsesPassThroughEncoder } from '../../src/edges/openai-responses/responses-pass-through.js';
import { changed, type StreamPart } from '../../src/llm/parts.js';
import { responsesStreamParts } from '../../src/providers/openai-responses/responses-stream.js';
import { parseSse } from '../../src/providers/sse.js';

const ev = (type: string, fields: Record<string, unknown>, seq: number): string =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: seq })}\n\n`;

const RESPONSE = { id: 'resp_up1', object: 'response', status: 'completed', output: [], usage: { input_tokens: 2, output_tokens: 2, total_tokens: 4 } };
const FRAMES = [
  ev('response.created', { response: { ...RESPONSE, status: 'in_progress', usage: null } }, 0),
  ev('response.in_progress', { response: { ...RESPONSE, status: 'in_progress', usage: null } }, 1),
  ev('response.output_item.added', { output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } }, 2),
  ev('response.output_item.done', { output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [], encrypted_content: 'gAAA' } }, 3),
  ev('response.output_text.delta', { item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'he' }, 4),
  ev('response.output_text.delta', { item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'llo' }, 5),
  ev('response.completed', { response: RESPONSE }, 6),
];

async function partsOf(frames: readonly string[]): Promise<StreamPart[]> {
  async function* body() { for (const f of frames) yield f; }
  const out: StreamPart[] = [];
  for await (const p of responsesStreamParts(parseSse(body()), true, (s) => s, true)) out.push(p);
  return out;
}

async function encode(parts: readonly StreamPart[], stored: Array<Record<string, unknown> | undefined> = []): Promise<string> {
  let out = '';
  const enc = new ResponsesPassThroughEncoder(async (response) => { stored.push(response); });
  for (const p of parts) {
    const text = enc.encode(p);
    out += typeof text === 'string' ? text : await text;
  }
  return out;
}

describe('ResponsesPassThroughEncoder', () => {
  it('writes the upstream\'s events as they came, typed parts made once beside them', async () => {
    const parts = await partsOf(FRAMES);
    assert.deepEqual(parts.filter((p) => p.type === 'text-delta').map((p) => (p as { text: string }).text), ['he', 'llo']);
    assert.deepEqual(parts.find((p) => p.type === 'usage'), { type: 'usage', usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } }, hidden: true, raw: parts.find((p) => p.type === 'usage')!.raw });
    const stored: Array<Record<string, unknown> | undefined> = [];
    assert.equal(await encode(parts, stored), FRAMES.join(''));
    assert.deepEqual(stored, [RESPONSE]);
  });

  it('names every event it forwards by its data\'s type, and forwards no data without one', async () => {
    // An upstream (or a proxy before it) that names an event apart from its data, or sends an object that is no event.
    const frames = [
      FRAMES[0],
      'data: {"x":1}\n\n',
      'event: response.output_text.delta\ndata: {"delta":"untyped","output_index":1}\n\n',
      `event: response.created\ndata: ${JSON.stringify({ type: 'response.output_text.delta', item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'he', sequence_number: 1 })}\n\n`,
      ev('response.completed', { response: RESPONSE }, 2),
    ];
    const out = await encode(await partsOf(frames));
    const events = out.split('\n\n').filter((f) => f !== '').map((f) => {
      const m = /^event: (\S+)\ndata: (.*)$/s.exec(f);
      assert.ok(m !== null, f);
      return [m[1], (JSON.parse(m[2]!) as { type?: unknown }).type];
    });
    assert.deepEqual(events, [['response.created', 'response.created'], ['response.output_text.delta', 'response.output_text.delta'], ['response.completed', 'response.completed']]);
  });

  it('stores the response before the terminal event is written', async () => {
    const parts = await partsOf(FRAMES);
    const enc = new ResponsesPassThroughEncoder(() => new Promise(() => { /* never settles */ }));
    let out = '';
    for (const p of parts.slice(0, -1)) out += enc.encode(p) as string;
    assert.equal(out, FRAMES.slice(0, -1).join(''), 'everything but response.completed');
    assert.ok(enc.encode(parts.at(-1)!) instanceof Promise);
  });

  it('writes a changed delta in the upstream\'s item, numbered after the last event', async () => {
    const parts = (await partsOf(FRAMES)).map((p) => (p.type === 'text-delta' && p.text === 'llo' ? { ...changed(p), text: 'LLO' } : p));
    const out = await encode(parts);
    assert.ok(out.includes(FRAMES[4]!));
    assert.ok(!out.includes(FRAMES[5]!));
    assert.ok(out.includes(`event: response.output_text.delta\ndata: ${JSON.stringify({ type: 'response.output_text.delta', item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'LLO', sequence_number: 5 })}\n\n`), out);
    assert.ok(out.endsWith(FRAMES[6]!));
  });

  it('ends with its own error event when the upstream fails, never the upstream\'s text', async () => {
    const failed = ev('response.failed', { response: { ...RESPONSE, status: 'failed', error: { code: 'server_error', message: 'upstream broke' } } }, 6);
    const parts = await partsOf([...FRAMES.slice(0, 5), failed]);
    const out = await encode(parts);
    assert.ok(!out.includes('response.failed'));
    assert.match(out, /event: error\ndata: \{"type":"error","code":"server_error","message":"upstream broke","param":null,"sequence_number":5\}\n\n$/);
  });
});

describe('ResponsesPassThroughEncoder without storing', () => {
  it('writes the terminal event at once', async () => {
    const parts = await partsOf(FRAMES);
    const enc = new ResponsesPassThroughEncoder();
    assert.equal(parts.map((p) => enc.encode(p) as string).join(''), FRAMES.join(''));
  });
});
