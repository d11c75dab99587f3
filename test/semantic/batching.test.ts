import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchingEmbedder, EmbedderBusy } from '../../src/semantic/embedder/batching.js';
import { l2normalize, type Embedder } from '../../src/semantic/embedder/types.js';

/** A deterministic 4-d embedder (character statistics) that records every model call, to observe batching. */
class RecordingEmbedder implements Embedder {
  readonly id = 'recording';
  readonly dim = 4;
  calls: string[][] = [];
  failNext = false;
  async embed(texts: string[]): Promise<Float32Array[]> {
    this.calls.push(texts);
    await new Promise((r) => setTimeout(r, 5));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('model failed');
    }
    return texts.map((t) => l2normalize(Float32Array.of(t.length, t.charCodeAt(0) || 1, (t.match(/a/g) ?? []).length + 1, 1)));
  }
  async close(): Promise<void> {}
}

const opts = { windowMs: 2, maxBatch: 4, maxQueue: 64, lruSize: 100, maxInputChars: 10 };

test('concurrent calls share one model call and keep input order', async () => {
  const inner = new RecordingEmbedder();
  const b = new BatchingEmbedder(inner, opts);
  const [x, y, z] = await Promise.all([b.embedOne('alpha'), b.embedOne('beta'), b.embedOne('gamma')]);
  assert.deepEqual(inner.calls, [['alpha', 'beta', 'gamma']]);
  assert.deepEqual(x, (await inner.embed(['alpha']))[0]);
  assert.notDeepEqual(y, z);
});

test('batches never exceed max_batch; later arrivals go in the next call', async () => {
  const inner = new RecordingEmbedder();
  const b = new BatchingEmbedder(inner, opts);
  const texts = Array.from({ length: 10 }, (_, i) => `t${i}`);
  const out = await b.embed(texts);
  assert.equal(out.length, 10);
  assert.ok(inner.calls.every((c) => c.length <= 4));
  assert.deepEqual(inner.calls.flat().sort(), [...texts].sort());
});

test('LRU answers repeats without a model call; identical in-flight texts are embedded once', async () => {
  const inner = new RecordingEmbedder();
  const b = new BatchingEmbedder(inner, opts);
  await Promise.all([b.embedOne('same'), b.embedOne('same')]);
  assert.deepEqual(inner.calls, [['same']]);
  await b.embedOne('same');
  assert.equal(inner.calls.length, 1);
  assert.equal(b.stats.lruHits, 1);
});

test('input is cut to max_input_chars before embedding and caching', async () => {
  const inner = new RecordingEmbedder();
  const b = new BatchingEmbedder(inner, opts);
  await b.embedOne('0123456789-tail-one');
  await b.embedOne('0123456789-tail-two');
  assert.deepEqual(inner.calls, [['0123456789']]);
});

test('a model failure rejects that batch only; the next call works', async () => {
  const inner = new RecordingEmbedder();
  const b = new BatchingEmbedder(inner, opts);
  inner.failNext = true;
  await assert.rejects(b.embedOne('boom'), /model failed/);
  assert.equal((await b.embedOne('boom')).length, 4);
  await b.close();
  await assert.rejects(b.embedOne('after close'), /closed/);
});

test('with no window an idle model starts at once, and texts arriving during a call share the next call', async () => {
  const inner = new RecordingEmbedder();
  const b = new BatchingEmbedder(inner, { ...opts, windowMs: 0 });
  const first = b.embedOne('first');
  await new Promise((r) => setTimeout(r, 1)); // the first call is now running (it takes 5 ms)
  assert.deepEqual(inner.calls, [['first']]);
  const rest = await Promise.all([b.embedOne('second'), b.embedOne('third'), b.embedOne('fourth')]);
  await first;
  assert.equal(rest.length, 3);
  assert.deepEqual(inner.calls, [['first'], ['second', 'third', 'fourth']]);
});

/** An embedder whose model calls finish only when the test says so. */
class GatedEmbedder implements Embedder {
  readonly id = 'gated';
  readonly dim = 2;
  calls: string[][] = [];
  private release: Array<() => void> = [];
  embed(texts: string[]): Promise<Float32Array[]> {
    this.calls.push(texts);
    return new Promise((resolve) => this.release.push(() => resolve(texts.map(() => Float32Array.of(1, 0)))));
  }
  finishOne(): void {
    this.release.shift()?.();
  }
  async close(): Promise<void> {}
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** One model call of `texts`, held for `ms` before it finishes: what teaches the embedder how long calls take. */
async function heldCall(b: BatchingEmbedder, inner: GatedEmbedder, texts: string[], ms: number, signal?: AbortSignal): Promise<void> {
  const all = Promise.all(texts.map((t) => b.embedOne(t, signal)));
  await turn();
  await new Promise((r) => setTimeout(r, ms));
  inner.finishOne();
  await all;
}

test('a bounded caller is refused when the queue is full; unbounded callers (start-up) still queue', async () => {
  const inner = new GatedEmbedder();
  const b = new BatchingEmbedder(inner, { windowMs: 0, maxBatch: 2, maxQueue: 2, lruSize: 0, maxInputChars: 100 });
  const signal = new AbortController().signal;
  const running = b.embedOne('running', signal);
  await turn(); // the first text is now in a model call, not in the queue
  assert.deepEqual(inner.calls, [['running']]);
  const queued = [b.embedOne('q1', signal), b.embedOne('q2', signal)];
  assert.equal(b.queued, 2);
  await assert.rejects(b.embedOne('q3', signal), { name: 'EmbedderBusy' });
  const offline = b.embedOne('start-up text');
  assert.equal(b.queued, 3, 'a caller without a budget is never refused');
  assert.equal(b.stats.refused, 1);
  inner.finishOne();
  await running;
  await turn();
  inner.finishOne();
  await Promise.all(queued);
  await turn();
  inner.finishOne();
  await offline;
  assert.deepEqual(inner.calls, [['running'], ['q1', 'q2'], ['start-up text']]);
});

test('a queued text every caller gave up on leaves the queue without a model call', async () => {
  const inner = new GatedEmbedder();
  const b = new BatchingEmbedder(inner, { windowMs: 0, maxBatch: 4, maxQueue: 4, lruSize: 0, maxInputChars: 100 });
  const running = b.embedOne('running', new AbortController().signal);
  await turn();
  const gaveUp = new AbortController();
  const stays = new AbortController();
  const dropped = b.embedOne('dropped', gaveUp.signal);
  const shared = [b.embedOne('shared', gaveUp.signal), b.embedOne('shared', stays.signal)];
  assert.equal(b.queued, 2);
  gaveUp.abort();
  await assert.rejects(dropped, { name: 'EmbedAborted' });
  await assert.rejects(shared[0], { name: 'EmbedAborted' });
  assert.equal(b.queued, 1, 'the shared text still has a caller waiting');
  inner.finishOne();
  await running;
  await turn();
  inner.finishOne();
  assert.equal((await shared[1]).length, 2);
  assert.deepEqual(inner.calls, [['running'], ['shared']]);
  assert.equal(b.stats.dropped, 1);
});

test('a bounded caller is refused at once when the model calls ahead would outlast its wait; its text never reaches the model', async () => {
  const inner = new GatedEmbedder();
  const b = new BatchingEmbedder(inner, { windowMs: 0, maxBatch: 4, maxQueue: 64, lruSize: 0, maxInputChars: 100 });
  const signal = new AbortController().signal;
  // One model call held for at least 60 ms teaches the embedder that a call takes at least that long.
  await heldCall(b, inner, ['first'], 60, signal);
  const second = b.embedOne('second'); // a call runs: the next text would wait for one
  await turn();
  let madeSignal = false;
  const lazy = (): AbortSignal => { madeSignal = true; return signal; };
  const refused = b.embedOne('cannot wait', lazy, 20);
  assert.equal(refused, EmbedderBusy.refusal, 'a refusal on arrival is told in the same turn, by identity');
  await assert.rejects(refused, { name: 'EmbedderBusy' });
  assert.equal(b.stats.refused, 1);
  assert.equal(b.queued, 0, 'the refused text was not queued');
  assert.equal(madeSignal, false, 'a refused text needs no signal: it is made only for a text that queues');
  const patient = b.embedOne('can wait', signal, 60_000);
  assert.equal(b.queued, 1, 'a caller with time to spare still queues');
  inner.finishOne();
  await second;
  await turn();
  inner.finishOne();
  await patient;
  assert.deepEqual(inner.calls, [['first'], ['second'], ['can wait']]);
});

test('an idle embedder takes a bounded text even after a slow call, so the measurement stays fresh', async () => {
  const inner = new GatedEmbedder();
  const b = new BatchingEmbedder(inner, { windowMs: 0, maxBatch: 4, maxQueue: 64, lruSize: 0, maxInputChars: 100 });
  await heldCall(b, inner, ['slow'], 60);
  const probe = b.embedOne('probe', new AbortController().signal, 20);
  assert.equal(b.queued, 1);
  await turn();
  inner.finishOne();
  assert.equal((await probe).length, 2);
  assert.equal(b.stats.refused, 0);
});

test('an LRU hit is served without making the caller\'s abort signal', async () => {
  const b = new BatchingEmbedder(new RecordingEmbedder(), opts);
  await b.embedOne('alpha');
  let made = 0;
  const v = await b.embedOne('alpha', () => { made++; return new AbortController().signal; }, 0);
  assert.equal(v.length, 4);
  assert.equal(made, 0);
});

test('the wait prediction learns how late admitted texts really were, and refuses on it', async () => {
  const inner = new GatedEmbedder();
  const b = new BatchingEmbedder(inner, { windowMs: 0, maxBatch: 1, maxQueue: 64, lruSize: 0, maxInputChars: 100 });
  const signal = new AbortController().signal;
  const quick = async (text: string): Promise<void> => {
    const p = b.embedOne(text);
    await turn();
    inner.finishOne();
    await p;
  };
  const whileBusy = async (text: string, maxWaitMs: number): Promise<'queued' | 'refused'> => {
    const running = b.embedOne(`running ${text}`);
    await turn();
    const bounded = b.embedOne(text, signal, maxWaitMs).catch(() => undefined);
    const outcome = b.queued === 1 ? 'queued' : 'refused';
    inner.finishOne();
    await running;
    await turn();
    if (outcome === 'queued') inner.finishOne();
    await bounded;
    return outcome;
  };
  // The first call of a process can be slow (code not yet compiled): the smoothed call duration forgets it over a few.
  for (let i = 0; i < 20; i++) await quick(`warm ${i}`);
  // The budget leaves room for a slow call on a loaded machine.
  assert.equal(await whileBusy('before', 30), 'queued', 'calls measured as quick: a 30 ms budget is enough to queue');
  // A call held for 400 ms: the bounded text behind it gets its vector ~400 ms later than predicted (the smoothed
  // lateness learns about 50 ms of it from this one text).
  const held = b.embedOne('held');
  await turn();
  const late = b.embedOne('late', signal, 10_000);
  await new Promise((r) => setTimeout(r, 400));
  inner.finishOne();
  await held;
  await turn();
  inner.finishOne();
  await late;
  for (let i = 0; i < 40; i++) await quick(`quick ${i}`); // the call-duration estimate is back near zero
  const refusedBefore = b.stats.refused;
  assert.equal(await whileBusy('after', 30), 'refused', 'the learned lateness is added to the prediction');
  assert.equal(b.stats.refused, refusedBefore + 1);
  assert.equal(await whileBusy('patient', 60_000), 'queued', 'a caller with time to spare still queues');
});

/**
 * Starts a one-text model call, then asks for a bounded text (`maxWaitMs`) behind it while it runs; lets both finish.
 * Returns whether the text queued and what it got ('refused' when the embedder turned it away).
 */
async function behindRunningCall(b: BatchingEmbedder, inner: GatedEmbedder, maxWaitMs: number): Promise<{ queued: boolean; result: Float32Array | 'refused' }> {
  const running = b.embedOne('running');
  await turn();
  const next = b.embedOne('next', new AbortController().signal, maxWaitMs).catch(() => 'refused' as const);
  const queued = b.queued === 1;
  inner.finishOne();
  await running;
  if (queued) {
    await turn();
    inner.finishOne();
  }
  return { queued, result: await next };
}

test('a call is predicted from the line fitted to past calls\' durations against their sizes, not from the mean call', async () => {
  const inner = new GatedEmbedder();
  const b = new BatchingEmbedder(inner, { windowMs: 0, maxBatch: 64, maxQueue: 256, lruSize: 0, maxInputChars: 100 });
  const call = (texts: string[], ms: number): Promise<void> => heldCall(b, inner, texts, ms);
  // Past calls: forty texts take ~120 ms, one text ~5 ms; the mean call comes out near 55 ms.
  for (let i = 0; i < 6; i++) {
    await call(Array.from({ length: 40 }, (_, j) => `forty ${i} ${j}`), 120);
    await call([`one ${i}`], 5);
  }
  // A one-text call running and one text to queue behind it: by the line both calls are short (~5 ms each); by the mean
  // call (~55 ms each) the text would wait ~110 ms.
  const { queued, result } = await behindRunningCall(b, inner, 60);
  assert.notEqual(result, 'refused');
  assert.equal(queued, true, 'a 60 ms budget fits two one-text calls');
});

test('a text queued behind a running call waits for what is left of that call too', async () => {
  const inner = new GatedEmbedder();
  const b = new BatchingEmbedder(inner, { windowMs: 0, maxBatch: 4, maxQueue: 64, lruSize: 0, maxInputChars: 100 });
  // A call held for 100 ms teaches the embedder that a call takes about that long.
  await heldCall(b, inner, ['first'], 100);
  // A call that has just started has ~100 ms left. The text's own call alone (~100 ms) would fit 150 ms; with the
  // running call's rest first (~200 ms) it does not.
  const { queued, result } = await behindRunningCall(b, inner, 150);
  assert.equal(result, 'refused');
  assert.equal(queued, false);
});

test('the queue is fair between owners: a text of an owner with none queued goes ahead of another owner\'s backlog', async () => {
  const inner = new GatedEmbedder();
  const b = new BatchingEmbedder(inner, { windowMs: 0, maxBatch: 1, maxQueue: 64, lruSize: 0, maxInputChars: 100 });
  const signal = new AbortController().signal;
  const all = [b.embedOne('a0', signal, Infinity, 'key-a')];
  await turn(); // a0 is in a model call
  for (const t of ['a1', 'a2', 'a3', 'a4']) all.push(b.embedOne(t, signal, Infinity, 'key-a'));
  all.push(b.embedOne('b1', signal, Infinity, 'key-b'));
  all.push(b.embedOne('a5', signal, Infinity, 'key-a'));
  for (let i = 0; i < all.length; i++) {
    await turn();
    inner.finishOne();
  }
  await Promise.all(all);
  assert.deepEqual(inner.calls, [['a0'], ['a1'], ['b1'], ['a2'], ['a3'], ['a4'], ['a5']]);
});

test('with one owner the queue is first in, first out', async () => {
  const inner = new GatedEmbedder();
  const b = new BatchingEmbedder(inner, { windowMs: 0, maxBatch: 2, maxQueue: 64, lruSize: 0, maxInputChars: 100 });
  const texts = Array.from({ length: 9 }, (_, i) => `t${i}`);
  const all = texts.map((t) => b.embedOne(t, new AbortController().signal, Infinity, 'only'));
  for (let i = 0; i < 5; i++) {
    await turn();
    inner.finishOne();
  }
  await Promise.all(all);
  assert.deepEqual(inner.calls.flat(), texts);
});

/** One call running (a0) and a queue of two (max_queue) holding owner key-a's a1 and a2, every caller bounded. */
async function fullQueue() {
  const inner = new GatedEmbedder();
  const b = new BatchingEmbedder(inner, { windowMs: 0, maxBatch: 1, maxQueue: 2, lruSize: 0, maxInputChars: 100 });
  const signal = new AbortController().signal;
  const running = b.embedOne('a0', signal, Infinity, 'key-a');
  await turn();
  const a1 = b.embedOne('a1', signal, Infinity, 'key-a');
  const a2 = b.embedOne('a2', signal, Infinity, 'key-a');
  return { inner, b, signal, running, a1, a2 };
}

test('a full queue refuses the flooding owner\'s last text to let another owner\'s text in', async () => {
  const { inner, b, signal, running, a1, a2 } = await fullQueue();
  await assert.rejects(b.embedOne('a3', signal, Infinity, 'key-a'), { name: 'EmbedderBusy' }, 'the flooding owner is refused on arrival');
  const b1 = b.embedOne('b1', signal, Infinity, 'key-b');
  await assert.rejects(a2, { name: 'EmbedderBusy' }, 'the flooding owner\'s last queued text makes room');
  assert.equal(b.queued, 2);
  assert.equal(b.stats.refused, 2);
  for (let i = 0; i < 3; i++) {
    await turn();
    inner.finishOne();
  }
  await Promise.all([running, a1, b1]);
  assert.deepEqual(inner.calls, [['a0'], ['a1'], ['b1']]);
});

test('a text an unbounded caller also waits for is never refused to make room: that caller always gets its vector', async () => {
  const { inner, b, signal, running, a1, a2 } = await fullQueue();
  // Start-up or a catalogue reload asks for the same text without a budget: it joins the queued one.
  const unbounded = b.embedOne('a2');
  const b1 = b.embedOne('b1', signal, Infinity, 'key-b');
  assert.equal(b.stats.refused, 0, 'nothing refused: the back text is awaited by a caller that always queues');
  for (let i = 0; i < 4; i++) {
    await turn();
    inner.finishOne();
  }
  await Promise.all([running, a1, a2, unbounded, b1]);
  assert.deepEqual(inner.calls, [['a0'], ['a1'], ['b1'], ['a2']]);
});
