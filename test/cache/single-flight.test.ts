import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SingleFlight } from '../../src/cache/single-flight.js';

describe('SingleFlight', () => {
  it('hands the leader\'s outcome to every follower still waiting, and ends the flight', async () => {
    const f = new SingleFlight<string>();
    assert.equal(f.lead('k'), true);
    assert.equal(f.lead('k'), false);
    const a = f.follow('k', 10_000)!;
    const b = f.follow('k', 10_000)!;
    assert.equal(f.waiting('k'), 2);
    f.settle('k', 'reply');
    assert.deepEqual(await Promise.all([a, b]), ['reply', 'reply']);
    assert.equal(f.inFlight, 0);
    assert.equal(f.follow('k', 10), undefined);
  });

  it('keeps nothing of a follower that gave up (its time ran out or its client left) while the leader goes on', async () => {
    const f = new SingleFlight<string>();
    f.lead('k');
    const timedOut = Array.from({ length: 50 }, () => f.follow('k', 5)!);
    const abort = new AbortController();
    const aborted = f.follow('k', 10_000, abort.signal)!;
    const patient = f.follow('k', 10_000)!;
    assert.equal(f.waiting('k'), 52);
    abort.abort();
    assert.equal(await aborted, undefined);
    await sleep(50); // the followers' timers do not keep a process alive by themselves
    for (const p of timedOut) assert.equal(await p, undefined);
    assert.equal(f.waiting('k'), 1, 'only the follower still waiting is held by the flight');
    f.settle('k', 'late');
    assert.equal(await patient, 'late');
  });

  it('answers a follower whose client already left at once, without joining the flight', async () => {
    const f = new SingleFlight<string>();
    f.lead('k');
    const abort = new AbortController();
    abort.abort();
    const started = Date.now();
    assert.equal(await f.follow('k', 10_000, abort.signal), undefined);
    assert.ok(Date.now() - started < 5_000);
    assert.equal(f.waiting('k'), 0);
    await sleep(0);
    f.settle('k', undefined);
  });
});
