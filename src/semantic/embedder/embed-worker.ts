/**
 * The body of one embedder worker thread (started by worker-pool.ts): loads the configured backend in this thread and
 * answers embed calls. Tokenising, the model call (onnxruntime's `run` is synchronous) and slicing the output all happen
 * here, so the event loop that serves requests never waits for the model. Each result buffer is transferred, not copied.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { createBackend } from './backend.js';
import { lowerThreadPriority, priorityShortfall } from './thread-priority.js';
import type { FromWorker, ToWorker, WorkerSetup } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('embed-worker.ts runs as a worker thread (see worker-pool.ts)');
const setup = workerData as WorkerSetup;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

/**
 * One full collection once the model is loaded. Loading leaves the conversion's buffers behind as garbage (USE-lite: the
 * float weights and the encoded model, about 30 MB a worker), and an idle worker allocates too little for its heap to
 * collect them by itself; until it did, they would stay resident. V8's flags are the process's: the collector stays
 * exposed to contexts created later (turning it off again would race the other workers loading at the same time).
 */
function collectLoadGarbage(): void {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
    if (typeof gc === 'function') gc();
  } catch {
    // Without the collector the garbage goes with the worker's next full collection.
  }
}

// Before the model's own threads start, so they inherit it.
const shortfall = priorityShortfall(setup.priority, lowerThreadPriority(setup.priority));
if (shortfall !== undefined) send({ type: 'fallback', message: shortfall, cause: 'sched_setscheduler' });
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
  collectLoadGarbage();
  send({ type: 'ready', id: backend.id, space: backend.space ?? backend.id, dim: backend.dim });
} catch (err) {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
}
