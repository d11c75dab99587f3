/**
 * Request fields whose value is not what the protocol says, on every door and every translation: each is the caller's 400 in
 * the door's envelope, naming the field, and never reaches an upstream (or, for a parameter a translation drops anyway, a
 * warning) — never the gateway's own 500. A parsed JSON object
 * can carry members named like Object.prototype's methods (`toString`), which makes `String(value)` throw; a list can hold
 * null where an object belongs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import { gateway, post } from '../helpers/gateway.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';

const HOSTILE = { toString: 1 };
const user = { role: 'user', content: 'hi' };

describe('hostile field values are the caller\'s 400 on every door', () => {
  let up: ScriptedUpstream;
  let gw: Gateway;
  let n = 0;

  before(async () => {
    up = await startScriptedUpstream();
    const key = [{ id: 'k1', value: 'key-k1' }];
    gw = await gateway({
      providers: {
        o: { kind: 'openai', base_url: up.url, models: ['m'], keys: key },
        r: { kind: 'openai', responses: true, base_url: up.url, models: ['m'], keys: key },
        a: { kind: 'anthropic', base_url: up.url, models: ['m'], keys: key },
      },
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  /** Posts `body`; asserts a 400 that names `param` (in the door's envelope) and that no upstream was called. */
  async function refused(path: string, body: unknown, param: RegExp): Promise<void> {
    const id = `hostile-${++n}`;
    const r = await post(gw, path, body, { 'x-request-id': id });
    assert.equal(r.status, 400, `${path} ${JSON.stringify(body)} → ${r.status} ${r.text}`);
    if (path === '/v1/messages') {
      assert.equal(r.json.type, 'error');
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.match(r.json.error.message, param);
    } else {
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.match(r.json.error.param, param);
    }
    assert.equal(up.seen(id), 0, 'no upstream call');
  }

  it('Messages door: a block or tool type that is an object with a toString member', async () => {
    const base = { model: 'o/m', max_tokens: 5 };
    await refused('/v1/messages', { ...base, messages: [user], tools: [{ type: HOSTILE, name: 't', input_schema: {} }] }, /^tools\.0\.type/);
    await refused('/v1/messages', {
      ...base, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: [{ type: HOSTILE }] }] }],
    }, /^messages\.0\.content\.0\.content\.0\.type/);
    await refused('/v1/messages', { ...base, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: [{ type: [HOSTILE] }] }] }] }, /content\.0\.type/);
  });

  it('Responses door: an item or tool choice type that is an object with a toString member', async () => {
    await refused('/v1/responses', { model: 'o/m', input: [{ type: HOSTILE }] }, /^input\[0\]\.type$/);
    await refused('/v1/responses', { model: 'o/m', input: [{ type: [HOSTILE] }] }, /^input\[0\]\.type$/);
    await refused('/v1/responses', { model: 'o/m', input: 'hi', tool_choice: { type: HOSTILE } }, /^tool_choice\.type$/);
  });

  it('chat door to a Responses upstream: tool calls and tool messages without their ids', async () => {
    const chat = (messages: unknown[]) => ({ model: 'r/m', messages: [user, ...messages] });
    const call = (c: unknown) => ({ role: 'assistant', content: null, tool_calls: [c] });
    await refused('/v1/chat/completions', chat([call(null)]), /^messages\[1\]\.tool_calls\[0\]$/);
    await refused('/v1/chat/completions', chat([call({ id: HOSTILE, type: 'function', function: { name: 'f', arguments: '{}' } })]), /^messages\[1\]\.tool_calls\[0\]$/);
    await refused('/v1/chat/completions', chat([call({ id: 'c1', type: 'function', function: { name: HOSTILE, arguments: '{}' } })]), /^messages\[1\]\.tool_calls\[0\]$/);
    await refused('/v1/chat/completions', chat([call({ id: 'c1', type: 'function' })]), /^messages\[1\]\.tool_calls\[0\]$/);
    await refused('/v1/chat/completions', chat([{ role: 'tool', tool_call_id: HOSTILE, content: 'x' }]), /^messages\[1\]\.tool_call_id$/);
    await refused('/v1/chat/completions', chat([{ role: 'tool', content: 'x' }]), /^messages\[1\]\.tool_call_id$/);
  });

  it('chat door to an Anthropic upstream: a response_format whose type is such an object is warned of, not a 500', async () => {
    const id = `hostile-${++n}`;
    up.script(id, {
      headers: { 'content-type': 'application/json' },
      chunks: [JSON.stringify({
        id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'fine' }], stop_reason: 'end_turn',
        stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 },
      })],
    });
    const r = await post(gw, '/v1/chat/completions', { model: 'a/m', messages: [user], response_format: { type: HOSTILE } }, { 'x-request-id': id });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, 'fine');
    assert.match(r.headers.get('x-switchyard-warnings') ?? '', /response_format '\{"toString":1\}' is not supported/);
  });
});
