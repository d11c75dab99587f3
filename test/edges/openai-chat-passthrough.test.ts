/**
 * The OpenAI chat path end to end: a stream no stage changes reaches the client with the upstream's own bytes — field order,
 * spacing, escapes and fields the gateway does not model included; usage the gateway asked for on its own is not sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import { gateway, post } from '../helpers/gateway.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';

// Written by hand, not by JSON.stringify: spacing, \u escapes and unknown fields a re-serialisation would change.
const events = [
  '{"id":"chatcmpl-x","object":"chat.completion.chunk","created":1700000000,"model":"m","service_tier":"default","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"ab"}',
  '{"id":"chatcmpl-x","object":"chat.completion.chunk","created":1700000000,"model":"m","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"caf\\u00e9 \\ud83d\\ude00"},"logprobs":null,"finish_reason":null}], "usage":null}',
  '{"id":"chatcmpl-x","object":"chat.completion.chunk","created":1700000000,"model":"m","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}',
  '{"id":"chatcmpl-x","object":"chat.completion.chunk","created":1700000000,"model":"m","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}',
];
const sse = (data: string): string => `data: ${data}\n\n`;

describe('OpenAI chat stream pass-through', () => {
  let up: ScriptedUpstream;
  let gw: Gateway;
  before(async () => {
    up = await startScriptedUpstream();
    gw = await gateway({ providers: { s: { kind: 'openai', base_url: up.url, models: ['m'], keys: [{ id: 'k', value: 'k-1' }] } } });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  const script = (id: string): void => up.script(id, { headers: { 'content-type': 'text/event-stream' }, chunks: [...events.map(sse), 'data: [DONE]\n\n'] });
  const ask = (id: string, extra: Record<string, unknown>) =>
    post(gw, '/v1/chat/completions', { model: 's/m', messages: [{ role: 'user', content: 'hi' }], stream: true, ...extra }, { 'x-request-id': id });

  it('forwards the upstream bytes unchanged when the client asked for usage', async () => {
    script('pass-1');
    const r = await ask('pass-1', { stream_options: { include_usage: true } });
    assert.equal(r.status, 200);
    assert.equal(r.text, events.map(sse).join('') + 'data: [DONE]\n\n');
  });

  it('leaves out the usage chunk the gateway asked for on its own, and nothing else', async () => {
    script('pass-2');
    const r = await ask('pass-2', {});
    assert.equal(r.status, 200);
    assert.equal(r.text, events.slice(0, 3).map(sse).join('') + 'data: [DONE]\n\n');
  });
});
