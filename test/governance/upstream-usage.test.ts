/**
 * Usage an upstream reports is read at the adapter, once: a count that is missing, not a number or not finite never reaches a
 * budget or the ledger. One reply with such a usage used to turn the key's spend into NaN — after which its budget was never
 * enforced again. Without a usable prompt count the gateway estimates, as for a reply that reported no usage.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import { gateway, post } from '../helpers/gateway.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';

const ADMIN = 'admin-key-for-tests-0123456789';
const KEY = 'sk-sy-usage-0000000000000001';
const SSE = { 'content-type': 'text/event-stream' };
const openaiChunk = (x: Record<string, unknown>) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', ...x })}\n\n`;
const anthropicEvent = (type: string, x: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...x })}\n\n`;

describe('usage an upstream reports is read once, at the adapter', () => {
  let up: ScriptedUpstream;
  let gw: Gateway;
  let n = 0;

  before(async () => {
    up = await startScriptedUpstream();
    const keys = [{ id: 'k1', value: 'key-k1' }];
    gw = await gateway({
      server: { admin_key: ADMIN },
      providers: { o: { kind: 'openai', base_url: up.url, models: ['m'], keys }, a: { kind: 'anthropic', base_url: up.url, models: ['m'], keys } },
      governance: {
        pricing: { 'o/m': { input: 1000, output: 1000 }, 'a/m': { input: 1000, output: 1000 } },
        keys: [{ id: 'ku', name: 'U', key: KEY, budget: { limit_usd: 10, period: 'total' } }],
      },
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  const spent = async (): Promise<number> => {
    const r = await fetch(`${gw.url}/admin/keys/ku/usage`, { headers: { 'x-admin-key': ADMIN } });
    return ((await r.json()) as { budget: { used_usd: number } }).budget.used_usd;
  };

  /** Streams one reply scripted as `chunks` from `model`; returns what the key's spend grew by (settled at the stream's end). */
  async function billed(model: string, chunks: string[]): Promise<number> {
    const before = await spent();
    const id = `usage-${++n}`;
    up.script(id, { headers: SSE, chunks });
    const r = await post(gw, '/v1/chat/completions', { model, stream: true, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, {
      'x-request-id': id, authorization: `Bearer ${KEY}`,
    });
    assert.equal(r.status, 200, r.text);
    for (let i = 0; i < 50 && (await spent()) === before; i++) await new Promise((res) => setTimeout(res, 20));
    const after = await spent();
    assert.equal(typeof after, 'number', `spend after ${JSON.stringify(chunks)}: ${after}`);
    assert.ok(Number.isFinite(after) && after > before, `spend grew from ${before} to ${after}`);
    return after - before;
  }

  it('an OpenAI stream\'s usage without a usable prompt count is estimated; a partial one is completed', async () => {
    const text = openaiChunk({ choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: 'stop' }] });
    const withUsage = (usage: unknown) => billed('o/m', [text, openaiChunk({ choices: [], usage }), 'data: [DONE]\n\n']);
    for (const usage of [{ total_tokens: 7 }, {}, { prompt_tokens: '5', completion_tokens: 1, total_tokens: 6 }, { prompt_tokens: -3, completion_tokens: 1 }]) {
      await withUsage(usage);
    }
    // A usage without its completion count bills the prompt it states (3 tokens at $0.001), as a JSON reply's does.
    assert.equal(Math.round((await withUsage({ prompt_tokens: 3, total_tokens: 3 })) * 1e6), 3000);
    assert.equal(Math.round((await withUsage({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 })) * 1e6), 4000);
  });

  it('an Anthropic stream\'s counts that are not numbers read 0', async () => {
    const delta = await billed('a/m', [
      anthropicEvent('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [], usage: { input_tokens: '5', output_tokens: 1 } } }),
      anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'hi' } }),
      anthropicEvent('content_block_stop', { index: 0 }),
      anthropicEvent('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2, cache_read_input_tokens: 'x' } }),
      anthropicEvent('message_stop', {}),
    ]);
    assert.equal(Math.round(delta * 1e6), 2000, 'the 2 output tokens only');
  });

  it('the budget still holds afterwards', async () => {
    const used = await spent();
    assert.ok(Number.isFinite(used) && used > 0 && used < 10, String(used));
  });
});
