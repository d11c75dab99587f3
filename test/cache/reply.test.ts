import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromJsonReply, jsonReplyOf, replayParts, StreamCapture } from '../../src/cache/reply.js';
import { MAX_REPLY_BODY } from '../../src/providers/http.js';
import { chunksOf } from '../helpers/stream-parts.js';
import { jsonReply, streamParts } from './helpers.js';

describe('stream capture and replay', () => {
  it('assembles a captured stream and replays it as well-formed chunks', () => {
    const cap = new StreamCapture('chat');
    for (const p of streamParts()) cap.onPart(p);
    const stored = cap.result();
    assert.ok(stored);
    const choice = (stored.body.choices as Array<Record<string, any>>)[0];
    assert.equal(stored.body.object, 'chat.completion');
    assert.equal(choice.message.content, 'Hello world');
    assert.deepEqual(choice.message.tool_calls, [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }]);
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.deepEqual(stored.usage, { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    assert.deepEqual(JSON.parse(stored.raw.toString()), stored.body);

    const replay = replayParts(stored, true);
    assert.deepEqual(replay.at(-1), { type: 'done' });
    const again = new StreamCapture('chat');
    for (const c of chunksOf(replay)) assert.equal(c.object, 'chat.completion.chunk');
    for (const p of replay) again.onPart(p);
    assert.deepEqual(again.result()?.body, stored.body);
    const usageChunk = replay.at(-2);
    assert.ok(usageChunk?.type === 'usage' && usageChunk.usage.total_tokens === 10);
    assert.ok(!replayParts(stored, false).some((p) => p.type === 'usage'));
  });

  it('a JSON reply replays as a stream and round-trips', () => {
    const stored = fromJsonReply('chat', jsonReply('Paris.'));
    assert.ok(stored);
    const cap = new StreamCapture('chat');
    for (const p of replayParts(stored, true)) cap.onPart(p);
    const body = cap.result()!.body as { choices: Array<{ message: { content: string } }> };
    assert.equal(body.choices[0].message.content, 'Paris.');
  });

  it('incomplete or failed streams are not stored', () => {
    for (const opts of [{ done: false }, { error: true }, { finish: false }]) {
      const cap = new StreamCapture('chat');
      for (const p of streamParts(opts)) cap.onPart(p);
      assert.equal(cap.result(), undefined, JSON.stringify(opts));
    }
  });

  it('only successful JSON replies are storable', () => {
    assert.equal(fromJsonReply('chat', { ...jsonReply('x'), status: 500 }), undefined);
    assert.equal(fromJsonReply('chat', { kind: 'json', status: 200, body: { choices: [{ index: 0, message: {} }] } }), undefined);
  });

  it('legacy completions round-trip too', () => {
    const stored = fromJsonReply('completion', { kind: 'json', status: 200, body: { id: 'c', object: 'text_completion', created: 1, model: 'm', choices: [{ index: 0, text: 'abc', finish_reason: 'length' }] } });
    const cap = new StreamCapture('completion');
    for (const p of replayParts(stored!, false)) cap.onPart(p);
    assert.equal((cap.result()!.body.choices as Array<{ text: string }>)[0].text, 'abc');
  });

  it('serves a JSON hit as the stored bytes, its body parsed once when read', () => {
    const stored = fromJsonReply('chat', jsonReply('cached answer'))!;
    const hit = jsonReplyOf(stored);
    assert.ok(hit.kind === 'json' && hit.status === 200);
    assert.deepEqual(JSON.parse(hit.raw!.toString('utf8')), jsonReply('cached answer').body);
    assert.equal(hit.body, hit.body);
    assert.equal((hit.body.choices as Array<{ message: { content: string } }>)[0].message.content, 'cached answer');
    assert.notEqual(jsonReplyOf(stored).body, hit.body, 'each hit gets its own body, so no stage sees another\'s edits');
  });

  it('does not keep a stream larger than the largest reply the gateway accepts: nothing stored, nothing held', () => {
    const cap = new StreamCapture('chat');
    const piece = 'x'.repeat(1024 * 1024);
    cap.onPart({ type: 'metadata', id: 'c', model: 'm', created: 1 });
    for (let i = 0; i <= MAX_REPLY_BODY / piece.length; i++) cap.onPart({ type: 'text-delta', choice: 0, text: piece });
    cap.onPart({ type: 'finish', choice: 0, reason: 'stop' });
    cap.onPart({ type: 'done' });
    assert.equal(cap.result(), undefined);
  });

  it('stores no reply over the entry bound (cache.max_entry_kb), streamed or JSON, log-probabilities counted', () => {
    const capture = (text: string, logprobs?: number): ReturnType<StreamCapture['result']> => {
      const cap = new StreamCapture('chat', 1024);
      cap.onPart({ type: 'metadata', id: 'c', model: 'm', created: 1 });
      const lp = logprobs === undefined ? undefined : { content: Array.from({ length: logprobs }, () => ({ token: 'a', logprob: -1 })) };
      cap.onPart(lp === undefined ? { type: 'text-delta', choice: 0, text } : { type: 'text-delta', choice: 0, text, logprobs: lp });
      cap.onPart({ type: 'finish', choice: 0, reason: 'stop' });
      cap.onPart({ type: 'done' });
      return cap.result();
    };
    assert.ok(capture('x'.repeat(1000)));
    assert.equal(capture('x'.repeat(1025)), undefined);
    assert.equal(capture('short', 20), undefined, 'twenty log-probability entries count as more than a kilobyte');
    const small = jsonReply('Paris.');
    assert.ok(fromJsonReply('chat', small, 1024));
    const big = jsonReply('x'.repeat(2000));
    assert.equal(fromJsonReply('chat', big, 1024), undefined);
    assert.equal(fromJsonReply('chat', { ...big, raw: undefined }, 1024), undefined, 'a reply without its bytes is measured serialised');
  });
});
