/**
 * The embedder's worker pool: the model runs in worker threads (onnxruntime's run is synchronous, so on the main thread
 * it would stall every request), gives the same vectors as the backend in process, and its threads run at the configured
 * lower priority so the event loop goes first.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { EmbedderConfigSchema } from '../../src/semantic/config.js';
import { createBackend } from '../../src/semantic/embedder/backend.js';
import { dot, type Embedder } from '../../src/semantic/embedder/types.js';
import { priorityShortfall } from '../../src/semantic/embedder/thread-priority.js';
import { WorkerPoolEmbedder } from '../../src/semantic/embedder/worker-pool.js';

const config = EmbedderConfigSchema.parse({ worker_priority: 7, threads: 1 });
let pool: WorkerPoolEmbedder;
let inProcess: Embedder;
before(async () => {
  pool = await WorkerPoolEmbedder.start({ config, rootDir: process.cwd(), size: 2, priority: config.worker_priority });
  inProcess = await createBackend(config, process.cwd());
});
after(async () => {
  await pool.close();
  await inProcess.close();
});

const TEXTS = ['How do I reset my password?', 'Write a Python function that merges two sorted lists.', 'What is the capital of France?', ''];

test('the workers give the same vectors as the backend in process, in input order', async () => {
  assert.equal(pool.size, 2);
  assert.equal(pool.id, inProcess.id);
  assert.equal(pool.dim, inProcess.dim);
  const [mine, theirs] = await Promise.all([pool.embed(TEXTS), inProcess.embed(TEXTS)]);
  assert.equal(mine.length, TEXTS.length);
  for (let i = 0; i < TEXTS.length; i++) assert.ok(dot(mine[i], theirs[i]) > 0.9999, `row ${i}: ${dot(mine[i], theirs[i])}`);
});

test('the event loop keeps turning while the model works', async () => {
  const texts = Array.from({ length: 32 }, (_, i) => `${TEXTS[i % 3]} (variant ${i})`);
  let turned = false;
  const work = pool.embed(texts).then((v) => ({ v, turned }));
  // In process, the model call would hold the loop until it returned: the result would be in before this callback ran.
  setImmediate(() => { turned = true; });
  const { v, turned: loopRanFirst } = await work;
  assert.equal(v.length, 32);
  assert.equal(loopRanFirst, true, 'a callback queued after the call ran before its result arrived');
});

test('calls spread over the workers run at once and all resolve', async () => {
  const batches = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.embed([`batch ${i}`, TEXTS[i % 3]])));
  for (const b of batches) assert.equal(b.length, 2);
});

/** Each thread of this process with its nice value and scheduling policy (0 normal, 5 SCHED_IDLE), from /proc. */
function threadPriorities(): { tid: string; nice: number; policy: number }[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { tid, nice: Number(fields[16]), policy: Number(fields[38]) };
  });
}
const LINUX_ONLY = { skip: process.platform !== 'linux' && 'thread priorities are read from /proc (Linux)' };

test('the worker threads run at the configured nice value; the main thread keeps its own', LINUX_ONLY, () => {
  const threads = threadPriorities();
  const main = threads.find((t) => t.tid === String(process.pid))!;
  assert.ok(threads.filter((t) => t.nice === Math.min(19, main.nice + 7)).length >= 2, `thread nice values: ${JSON.stringify(threads)}`);
});

test('worker_priority idle: the worker threads run under SCHED_IDLE (nice 19 without glibc); the main thread stays normal', LINUX_ONLY, async () => {
  assert.equal(EmbedderConfigSchema.parse({}).worker_priority, 19, 'the default is a nice value');
  const idle = EmbedderConfigSchema.parse({ threads: 1, worker_priority: 'idle' });
  const before = new Set(threadPriorities().map((t) => t.tid));
  const idlePool = await WorkerPoolEmbedder.start({ config: idle, rootDir: process.cwd(), size: 1, priority: idle.worker_priority });
  try {
    await idlePool.embed(['one text, so the worker has run the model']);
    const threads = threadPriorities();
    const added = threads.filter((t) => !before.has(t.tid));
    const glibc = typeof (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime === 'string';
    const lowered = added.filter((t) => (glibc ? t.policy === 5 : t.policy === 5 || t.nice === 19));
    assert.ok(lowered.length >= 1, `new threads: ${JSON.stringify(added)}`);
    assert.equal(threads.find((t) => t.tid === String(process.pid))!.policy, 0);
  } finally {
    await idlePool.close();
  }
});

test('a closed pool refuses work', async () => {
  const p = await WorkerPoolEmbedder.start({ config, rootDir: process.cwd(), size: 1, priority: 0 });
  await p.close();
  await assert.rejects(p.embed(['after close']), /closed/);
});

test('an operator asking for idle is told when it could not be had, and what the threads run at instead', () => {
  assert.equal(priorityShortfall('idle', 'idle'), undefined);
  assert.equal(priorityShortfall(10, { nice: 10 }), undefined);
  assert.equal(priorityShortfall(10, 'unchanged'), undefined);
  assert.match(priorityShortfall('idle', { nice: 19 }) ?? '', /SCHED_IDLE could not be set.*nice 19/);
  assert.match(priorityShortfall('idle', 'unchanged') ?? '', /keep the process's priority/);
});
