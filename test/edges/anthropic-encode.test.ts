/**
 * The Messages edge's stream encoder over the shared pass-through (src/edges/pass-through-encoder.ts): an Anthropic event
 * whose parts all arrive unchanged leaves as the upstream's bytes; one whose parts were changed is encoded instead, and the
 * event sequence continues either way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnthropicStreamEncoder } from '../../src/edges/anthropic-messages/encode-stream.js';
import type { StreamPart, WireEvent } from '../../src/llm/parts.js';

const START: WireEvent = { format: 'anthropic', event: 'message_start', parts: 1, data: '{"type":"message_start","message":{"id":"msg_1","model":"claude","x":1}}' };
const DELTA: WireEvent = { format: 'anthropic', event: 'content_block_delta', parts: 2, data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ab"},"keep":true}' };

const encodeAll = (parts: StreamPart[]): string => {
  const enc = new AnthropicStreamEncoder('req-1', 'claude');
  return parts.map((p) => enc.encode(p)).join('');
};

describe('AnthropicStreamEncoder pass-through', () => {
  const start: StreamPart = { type: 'metadata', id: 'msg_1', model: 'claude', created: 0, raw: START };

  it('forwards an event whose parts all arrived unchanged', () => {
    const out = encodeAll([start, { type: 'text-delta', choice: 0, text: 'a', raw: DELTA }, { type: 'text-delta', choice: 0, text: 'b', raw: DELTA }]);
    assert.ok(out.startsWith(`event: message_start\ndata: ${START.data}\n\n`), out);
    assert.ok(out.includes(`event: content_block_delta\ndata: ${DELTA.data}\n\n`), out);
  });

  it('encodes an event one of whose parts a stage replaced, in order, and never forwards its bytes', () => {
    const out = encodeAll([
      start,
      { type: 'text-delta', choice: 0, text: 'a', raw: DELTA },
      { type: 'text-delta', choice: 0, text: 'X' },
      { type: 'text-delta', choice: 0, text: 'b', raw: DELTA },
    ]);
    assert.ok(!out.includes(DELTA.data), out);
    const texts = [...out.matchAll(/"text":"([^"]*)"/g)].map((m) => m[1]).join('');
    assert.equal(texts, 'aXb');
  });
});
