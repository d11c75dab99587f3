import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientAbort } from '../../src/pipeline/client-abort.js';

describe('client abort', () => {
  it('tells its listeners once, in order, and a signal made before the abort first', () => {
    const a = new ClientAbort();
    const seen: string[] = [];
    const first = { handleEvent: () => seen.push('first') };
    const removed = { handleEvent: () => seen.push('removed') };
    a.addEventListener('abort', first);
    a.addEventListener('abort', removed);
    a.removeEventListener('abort', removed);
    a.signal.addEventListener('abort', () => seen.push('signal'));
    assert.equal(a.aborted, false);
    a.abort();
    a.abort();
    assert.deepEqual(seen, ['signal', 'first']);
    assert.equal(a.aborted, true);
    assert.equal(a.signal.reason, a.reason);
    assert.ok(a.reason instanceof Error && a.reason.name === 'AbortError');
  });

  it('a signal asked for after the abort is already aborted with its reason; a listener added after it is never called', () => {
    const a = new ClientAbort();
    a.abort();
    let late = false;
    a.addEventListener('abort', { handleEvent: () => { late = true; } });
    const s = a.signal;
    assert.equal(s.aborted, true);
    assert.equal(s.reason, a.reason);
    assert.equal(a.signal, s);
    assert.equal(late, false);
  });

  it('a listener that throws does not stop the others nor the abort; its error is reported as uncaught', async () => {
    const a = new ClientAbort();
    const seen: string[] = [];
    const boom = new Error('listener failed');
    a.addEventListener('abort', { handleEvent: () => { throw boom; } });
    a.addEventListener('abort', { handleEvent: () => seen.push('second') });
    const reported = new Promise<unknown>((resolve) => {
      const listeners = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.once('uncaughtException', (err) => {
        for (const l of listeners) process.on('uncaughtException', l);
        resolve(err);
      });
    });
    assert.doesNotThrow(() => a.abort());
    assert.deepEqual(seen, ['second']);
    assert.equal(a.aborted, true);
    assert.equal(await reported, boom);
  });
});
