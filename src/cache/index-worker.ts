/**
 * The body of the cache's index thread (started by index-host.ts): one HNSW index per partition, built on first add,
 * answering searches and vector reads in the order the calls were sent — so a search sees every add and remove sent before
 * it. The graph walk and the insert (hundreds of microseconds each at 512 dimensions) run here, not on the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { VectorIndex } from '../semantic/vector-index.js';
import type { FromIndex, IndexSetup, ToIndex } from './index-protocol.js';

const port = parentPort;
if (port === null) throw new Error('index-worker.ts runs as a worker thread (see index-host.ts)');
const setup = workerData as IndexSetup;
const partitions = new Map<string, VectorIndex>();
const send = (m: FromIndex, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

function handle(m: ToIndex): void {
  switch (m.op) {
    case 'add': {
      let index = partitions.get(m.part);
      if (index === undefined) {
        index = new VectorIndex({ dim: setup.dim, M: setup.M, efConstruction: setup.efConstruction, efSearch: setup.efSearch, initialCapacity: 16 });
        partitions.set(m.part, index);
      }
      index.add(m.label, m.vector);
      return;
    }
    case 'remove':
      partitions.get(m.part)?.remove(m.label);
      return;
    case 'drop':
      partitions.delete(m.part);
      return;
    case 'clear':
      partitions.clear();
      return;
    case 'search': {
      const found = partitions.get(m.part)?.search(m.vector, m.k) ?? [];
      send({ id: m.id, labels: found.map((n) => n.label), scores: found.map((n) => n.score) });
      return;
    }
    case 'vector': {
      const v = partitions.get(m.part)?.vectorOf(m.label);
      send({ id: m.id, vector: v }, v === undefined ? [] : [v.buffer as ArrayBuffer]);
      return;
    }
  }
}

port.on('message', (m: ToIndex) => {
  try {
    handle(m);
  } catch (err) {
    send({ id: 'id' in m ? m.id : 0, error: err instanceof Error ? err.message : String(err) });
  }
});
