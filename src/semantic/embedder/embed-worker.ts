/**
 * The body of one embedder worker thread (started by worker-pool.ts): loads the configured backend in this thread and
 * answers embed calls. Tokenising, the model call (onnxruntime's `run` is synchronous) and slicing the output all happen
 * here, so the event loop that serves requests never waits for the model. Each result buffer is transferred, not copied.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { createBackend } from './backend.js';
import type { FromWorker, ToWorker, WorkerSetup } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('embed-worker.ts runs as a worker thread (see worker-pool.ts)');
const setup = workerData as WorkerSetup;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

/**
 * Lowers this thread's scheduling priority (Linux: a thread id is a pid to setpriority), before the model's own threads
 * start so they inherit it: when the cores are contended, the event loop runs first and the model takes what is left.
 */
function lowerPriority(nice: number): void {
  if (nice <= 0 || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // No /proc or not permitted: the thread keeps the process's priority.
  }
}

lowerPriority(setup.nice);
try {
  const backend = await createBackend(setup.config, setup.rootDir, (message, cause) => send({ type: 'fallback', message, cause: cause.message }));
  port.on('message', (m: ToWorker) => {
    if (m.type === 'close') {
      void backend.close().finally(() => port.close());
      return;
    }
    backend.embed(m.texts).then(
      (vectors) => send({ type: 'result', id: m.id, vectors }, [...new Set(vectors.map((v) => v.buffer as ArrayBuffer))]),
      (err: unknown) => send({ type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) }),
    );
  });
  send({ type: 'ready', id: backend.id, dim: backend.dim });
} catch (err) {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
}
