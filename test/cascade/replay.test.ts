import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bufferStream } from '../../src/cascade/replay.js';
import { GatewayError } from '../../src/errors.js';
import { MAX_REPLY_BODY } from '../../src/providers/http.js';
import type { StreamPart, StreamReply } from '../../src/providers/types.js';

describe('buffering a tier\'s stream', () => {
  it('refuses a stream larger than the largest reply the gateway accepts, and ends it, rather than holding it all', async () => {
    const piece = 'x'.repeat(1024 * 1024);
    let closed = false;
    let sent = 0;
    async function* parts(): AsyncGenerator<StreamPart> {
      try {
        yield { type: 'metadata', id: 'c', model: 'm', created: 1 };
        for (; sent <= 2 * MAX_REPLY_BODY / piece.length; sent++) yield { type: 'text-delta', choice: 0, text: piece };
        yield { type: 'finish', choice: 0, reason: 'stop' };
        yield { type: 'done' };
      } finally {
        closed = true;
      }
    }
    const reply: StreamReply = { kind: 'stream', status: 200, parts: parts() };
    await assert.rejects(bufferStream(reply, 'p'), (err: unknown) => err instanceof GatewayError && err.code === 'reply_too_large' && err.failure === 'caller');
    assert.equal(closed, true, 'the stream was closed');
    assert.ok(sent <= MAX_REPLY_BODY / piece.length + 1, `read no further than the bound (${sent} pieces)`);
  });

  it('keeps a stream within the bound whole', async () => {
    async function* parts(): AsyncGenerator<StreamPart> {
      yield { type: 'metadata', id: 'c', model: 'm', created: 1 };
      yield { type: 'text-delta', choice: 0, text: 'Hello' };
      yield { type: 'finish', choice: 0, reason: 'stop' };
      yield { type: 'done' };
    }
    const b = await bufferStream({ kind: 'stream', status: 200, parts: parts() }, 'p');
    assert.equal(b.parts.length, 4);
    assert.equal(b.answer.text, 'Hello');
    assert.equal(b.error, undefined);
  });
});
