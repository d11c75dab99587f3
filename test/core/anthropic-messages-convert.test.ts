/**
 * The Messages edge's pure pieces: request parsing into the internal request, the reply conversion, the event encoder, and
 * a property that no JSON a caller sends makes the parser throw anything but a 400 in Anthropic's style.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { GatewayError } from '../../src/errors.js';
import { anthropicError } from '../../src/edges/anthropic-messages/anthropic-errors.js';
import { convertChatToMessage } from '../../src/edges/anthropic-messages/convert-chat-to-message.js';
import { MessageEventEncoder } from '../../src/edges/anthropic-messages/encode-message-events.js';
import { AnthropicStreamEncoder } from '../../src/edges/anthropic-messages/encode-stream.js';
import type { WireEvent } from '../../src/llm/parts.js';
import { parseMessagesRequest } from '../../src/edges/anthropic-messages/parse-messages-request.js';

const IMG = 'iVBORw0KGgo=';

describe('parseMessagesRequest', () => {
  it('maps every content block kind and parameter to the internal request', () => {
    const { body, stream, warnings, translationLosses, extras, native } = parseMessagesRequest({
      model: 'claude', max_tokens: 64, stream: true, top_p: 0.9, top_k: 5, thinking: { type: 'enabled', budget_tokens: 1024 },
      system: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two', cache_control: { type: 'ephemeral' } }],
      tools: [{ name: 't', input_schema: { type: 'object' } }], tool_choice: { type: 'any', disable_parallel_tool_use: true },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: IMG } },
          { type: 'image', source: { type: 'url', url: 'https://x.test/a.png' } }, { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: 's' }, { type: 'text', text: 'calling' }, { type: 'tool_use', id: 'tu1', name: 't', input: { a: 1 } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: [{ type: 'text', text: 'r1' }, { type: 'text', text: 'r2' }], is_error: true }] },
      ],
      service_tier: 'auto', mcp_servers: [{ type: 'url', url: 'https://mcp.test' }],
    }, 100);
    assert.equal(stream, true);
    assert.deepEqual(body, {
      model: 'claude',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] },
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${IMG}` } },
          { type: 'image_url', image_url: { url: 'https://x.test/a.png' } }, { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBE' } }] },
        { role: 'assistant', content: 'calling', tool_calls: [{ id: 'tu1', type: 'function', function: { name: 't', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'tu1', content: 'r1\nr2' },
      ],
      max_tokens: 64, top_p: 0.9, top_k: 5,
      tools: [{ type: 'function', function: { name: 't', parameters: { type: 'object' } } }], tool_choice: 'required', parallel_tool_calls: false,
      thinking: { type: 'enabled', budget_tokens: 1024 }, stream: true,
    });
    // Nothing is dropped quietly: what translation loses is listed, what no upstream receives is warned of.
    assert.equal(translationLosses.length, 4, translationLosses.join(' | '));
    assert.ok(translationLosses.some((w) => /cache_control/.test(w)));
    assert.ok(translationLosses.some((w) => /thinking blocks/.test(w)));
    assert.ok(translationLosses.some((w) => /is_error/.test(w)));
    assert.ok(translationLosses.some((w) => /'service_tier'/.test(w)));
    assert.deepEqual(warnings, ["parameter 'mcp_servers' is not forwarded by this gateway and was ignored"]);
    // The native request keeps everything but the withheld field; extras are what only it carries.
    assert.deepEqual(extras, { service_tier: 'auto' });
    assert.equal(native.mcp_servers, undefined);
    assert.deepEqual((native.messages as any[])[1].content[0], { type: 'thinking', thinking: 'hm', signature: 's' });
  });

  it('refuses what it cannot carry with a 400 naming the field', () => {
    const cases: Array<[unknown, string]> = [
      [{ max_tokens: 1, messages: [] }, 'model: Field required'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }] }, 'max_tokens: Field required'],
      [{ model: 'm', max_tokens: 1, messages: [{ role: 'system', content: 'x' }] }, "messages.0.role: Input should be 'user' or 'assistant'"],
      [{ model: 'm', max_tokens: 1, temperature: 2, messages: [{ role: 'user', content: 'x' }] }, 'temperature: Input should be between 0 and 1'],
      [{ model: 'm', max_tokens: 1, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'x' }] }, 'tools.0.type: '],
      [{ model: 'm', max_tokens: 1, tool_choice: { type: 'tool', name: 'x' }, messages: [{ role: 'user', content: 'x' }] }, "tool_choice: requires 'tools'"],
      [{ model: 'm', max_tokens: 1, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 'a', name: 'b', input: 'str' }] }] }, 'messages.0.content.0.input: '],
    ];
    for (const [body, message] of cases) {
      assert.throws(() => parseMessagesRequest(body, 100), (err: unknown) => {
        assert.ok(err instanceof GatewayError);
        assert.equal(err.status, 400);
        assert.ok(err.message.startsWith(message), `${err.message} !~ ${message}`);
        return true;
      });
    }
  });

  it('count_tokens bodies need no max_tokens', () => {
    const { body } = parseMessagesRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, 10, { countOnly: true });
    assert.equal(body.max_tokens, undefined);
  });

  it('any JSON body yields an internal request or a 400, never another failure', () => {
    const block = fc.oneof(
      fc.record({ type: fc.constantFrom('text', 'image', 'tool_use', 'tool_result', 'thinking', 'document', 'x'), text: fc.anything(), source: fc.anything(), id: fc.anything(), name: fc.anything(), input: fc.anything(), tool_use_id: fc.anything(), content: fc.anything() }, { requiredKeys: ['type'] }),
      fc.anything(),
    );
    const message = fc.record({ role: fc.oneof(fc.constantFrom('user', 'assistant'), fc.anything()), content: fc.oneof(fc.string(), fc.array(block, { maxLength: 4 }), fc.anything()) }, { requiredKeys: [] });
    const body = fc.record({
      model: fc.oneof(fc.constant('m'), fc.anything()), max_tokens: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.anything()),
      messages: fc.oneof(fc.array(message, { maxLength: 4 }), fc.anything()), system: fc.anything(), tools: fc.anything(), tool_choice: fc.anything(),
      metadata: fc.anything(), stop_sequences: fc.anything(), temperature: fc.anything(), top_k: fc.anything(), thinking: fc.anything(), stream: fc.anything(),
    }, { requiredKeys: [] });
    fc.assert(fc.property(fc.oneof(body, fc.anything()), (b) => {
      try {
        parseMessagesRequest(b, 16);
      } catch (err) {
        assert.ok(err instanceof GatewayError && err.status === 400, String(err));
      }
    }), { numRuns: 400, seed: 20_261_203 });
  });
});

describe('convertChatToMessage', () => {
  it('reasoning, text and tool calls become blocks; finish reason and usage are Anthropic\'s', () => {
    const warnings: string[] = [];
    const msg = convertChatToMessage({
      id: 'chatcmpl-1', model: 'gpt-x',
      choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', reasoning_content: 'think', content: 'ok',
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"q":1}' } }, { id: 'c2', type: 'function', function: { name: 'g', arguments: 'not json' } }] } }],
      usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13, prompt_tokens_details: { cached_tokens: 4 } },
    }, 'asked', warnings);
    assert.deepEqual(msg, {
      id: 'msg_chatcmpl-1', type: 'message', role: 'assistant', model: 'gpt-x',
      content: [{ type: 'thinking', thinking: 'think', signature: '' }, { type: 'text', text: 'ok' }, { type: 'tool_use', id: 'c1', name: 'f', input: { q: 1 } },
        { type: 'tool_use', id: 'c2', name: 'g', input: { _raw: 'not json' } }],
      stop_reason: 'tool_use', stop_sequence: null, usage: { input_tokens: 6, output_tokens: 3, cache_read_input_tokens: 4 },
    });
    assert.equal(warnings.length, 1);
  });
});

describe('MessageEventEncoder', () => {
  const events = (sse: string) => sse.split('\n\n').filter(Boolean).map((e) => {
    const [ev, data] = e.split('\n');
    const json = JSON.parse(data.slice('data: '.length));
    assert.equal(ev, `event: ${json.type}`);
    return json;
  });

  it('one block at a time, indices in order, usage and stop reason in message_delta', () => {
    const enc = new MessageEventEncoder('msg_1', 'm');
    let out = enc.start();
    out += enc.thinking('a') + enc.thinking('b') + enc.text('c') + enc.toolStart(0, 'tu', 'f') + enc.toolInput(0, '{"x"') + enc.toolInput(0, ':1}');
    enc.stop('tool_use');
    enc.setUsage({ input_tokens: 7, output_tokens: 2 });
    out += enc.finish();
    const seq = events(out).map((e) => [e.type, e.index ?? null, e.delta?.type ?? e.content_block?.type ?? null]);
    assert.deepEqual(seq, [
      ['message_start', null, null], ['ping', null, null],
      ['content_block_start', 0, 'thinking'], ['content_block_delta', 0, 'thinking_delta'], ['content_block_delta', 0, 'thinking_delta'], ['content_block_stop', 0, null],
      ['content_block_start', 1, 'text'], ['content_block_delta', 1, 'text_delta'], ['content_block_stop', 1, null],
      ['content_block_start', 2, 'tool_use'], ['content_block_delta', 2, 'input_json_delta'], ['content_block_delta', 2, 'input_json_delta'], ['content_block_stop', 2, null],
      ['message_delta', null, null], ['message_stop', null, null],
    ]);
    const delta = events(out).find((e) => e.type === 'message_delta');
    assert.deepEqual(delta, { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 7, output_tokens: 2 } });
  });
});

describe('anthropicError', () => {
  it('uses Anthropic\'s statuses and types', () => {
    const err = (status: number) => new GatewayError({ status, message: 'm', type: 'x', failure: status < 500 ? 'caller' : 'upstream' });
    assert.deepEqual([400, 401, 403, 404, 413, 429, 500, 503, 504].map((s) => { const r = anthropicError(err(s)); return `${r.status}:${r.body.error.type}`; }), [
      '400:invalid_request_error', '401:authentication_error', '403:permission_error', '404:not_found_error', '413:request_too_large',
      '429:rate_limit_error', '500:api_error', '529:overloaded_error', '504:timeout_error',
    ]);
  });
});

describe('AnthropicStreamEncoder', () => {
  const ev = (type: string, data: object, parts = 1): WireEvent => ({ format: 'anthropic', event: type, data: JSON.stringify({ type, ...data }), parts });

  it('forwards unchanged upstream events verbatim, and continues the sequence when a part was changed', () => {
    const enc = new AnthropicStreamEncoder('req-1', 'm');
    const start = ev('message_start', { message: { id: 'msg_up', signature_of_upstream: true } }, 2);
    const blockStart = ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    const d1 = ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } });
    const stop0 = ev('content_block_stop', { index: 0 });
    let out = '';
    out += enc.encode({ type: 'metadata', id: 'msg_up', model: 'm', created: 0, raw: start });
    out += enc.encode({ type: 'text-delta', choice: 0, text: '', raw: start });
    out += enc.encode({ type: 'raw', raw: blockStart });
    out += enc.encode({ type: 'text-delta', choice: 0, text: 'Hi', raw: d1 });
    out += enc.encode({ type: 'raw', raw: stop0 });
    // A stage changed this part (no raw): it is encoded, in a block of its own after the forwarded one.
    out += enc.encode({ type: 'text-delta', choice: 0, text: ' there' });
    out += enc.encode({ type: 'finish', choice: 0, reason: 'stop' });
    out += enc.encode({ type: 'usage', usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }, hidden: true });
    out += enc.encode({ type: 'done' });
    const lines = out.split('\n\n').filter(Boolean);
    assert.equal(lines[0], `event: message_start\ndata: ${start.data}`);
    assert.equal(lines[1], `event: content_block_start\ndata: ${blockStart.data}`);
    assert.equal(lines[2], `event: content_block_delta\ndata: ${d1.data}`);
    assert.equal(lines[3], `event: content_block_stop\ndata: ${stop0.data}`);
    const rest = lines.slice(4).map((l) => JSON.parse(l.split('\n')[1].slice(6)));
    assert.deepEqual(rest.map((e) => [e.type, e.index ?? null]), [
      ['content_block_start', 1], ['content_block_delta', 1], ['content_block_stop', 1], ['message_delta', null], ['message_stop', null],
    ]);
    assert.deepEqual(rest[3].usage, { input_tokens: 3, output_tokens: 2 });
  });

  it('a forwarded message_stop is not followed by a second one; failures are error events', () => {
    const enc = new AnthropicStreamEncoder('req-2', 'm');
    const stopMsg = ev('message_stop', {});
    const out = enc.encode({ type: 'usage', usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }, hidden: true, raw: stopMsg }) + enc.encode({ type: 'done' });
    assert.equal(out, `event: message_stop\ndata: ${stopMsg.data}\n\n`);
    const broken = new AnthropicStreamEncoder('req-3', 'm');
    const text = broken.encode({ type: 'text-delta', choice: 0, text: 'a' }) + broken.fail({ message: 'cut', type: 'upstream_error', code: 'x' });
    assert.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"cut"\}\}\n\n$/);
  });
});
