import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { observeStream, type StreamEnd } from '../../src/pipeline/stage.js';
import type { StreamPart, StreamReply } from '../../src/providers/types.js';

function reply(parts: StreamPart[], closed: string[], name: string): StreamReply {
  async function* gen(): AsyncGenerator<StreamPart> {
    try {
      for (const p of parts) yield p;
    } finally {
      closed.push(name);
    }
  }
  return { kind: 'stream', status: 200, parts: gen() };
}

const chunk = (text: string): StreamPart => ({ type: 'text-delta', choice: 0, text });

describe('observeStream', () => {
  it('reports done once, inner observers first', async () => {
    const ends: string[] = [];
    const inner = observeStream(reply([chunk('a'), { type: 'done' }], [], 'src'), undefined, (e) => ends.push(`inner:${e.outcome}`));
    const outer = observeStream(inner, undefined, (e) => ends.push(`outer:${e.outcome}`));
    for await (const p of outer.parts) if (p.type === 'done') break;
    assert.deepEqual(ends, ['inner:done', 'outer:done']);
  });

  it('reports an abort and closes the source when the consumer stops before reading anything', async () => {
    const ends: StreamEnd[] = [];
    const closed: string[] = [];
    const src = reply([chunk('a'), { type: 'done' }], closed, 'src');
    const observed = observeStream(src, undefined, (e) => ends.push(e));
    await observed.parts[Symbol.asyncIterator]().return?.();
    assert.deepEqual(ends, [{ outcome: 'aborted' }]);
    // A generator that never started has nothing to clean up; one that had started would have run its finally.
    assert.deepEqual(closed, []);
  });

  it('reports an error part as an error end', async () => {
    const ends: StreamEnd[] = [];
    const r = observeStream(reply([chunk('a'), { type: 'error', failure: { message: 'cut', type: 'upstream_error', code: null } }], [], 's'), undefined, (e) => ends.push(e));
    for await (const _ of r.parts) { /* drain */ }
    assert.deepEqual(ends, [{ outcome: 'error', message: 'cut' }]);
  });
});
