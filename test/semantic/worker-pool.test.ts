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
import { WorkerPoolEmbedder } from '../../src/semantic/embedder/worker-pool.js';

const config = EmbedderConfigSchema.parse({ worker_nice: 7, threads: 1 });
let pool: WorkerPoolEmbedder;
let inProcess: Embedder;
before(async () => {
  pool = await WorkerPoolEmbedder.start({ config, rootDir: process.cwd(), size: 2, nice: config.worker_nice });
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

test('the worker threads run at the configured nice value; the main thread keeps its own', { skip: process.platform !== 'linux' && 'thread priorities are read from /proc (Linux)' }, () => {
  const niceOf = (tid: string): number => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  };
  const nices = readdirSync('/proc/self/task').map((tid) => ({ tid, nice: niceOf(tid) }));
  const main = nices.find((t) => t.tid === String(process.pid))!;
  assert.ok(nices.filter((t) => t.nice === main.nice + 7).length >= 2, `thread nice values: ${JSON.stringify(nices)}`);
});

test('a closed pool refuses work', async () => {
  const p = await WorkerPoolEmbedder.start({ config, rootDir: process.cwd(), size: 1, nice: 0 });
  await p.close();
  await assert.rejects(p.embed(['after close']), /closed/);
});
