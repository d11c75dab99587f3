/**
 * The body of the PII scan worker thread (started by pii-scan.ts): runs detectPii over the texts it is sent and answers
 * with the findings packed in one typed array per call (detector index, start, end), which is transferred, not copied;
 * the detector names travel once per call.
 */
import { parentPort } from 'node:worker_threads';
import { detectPii } from './detectors/pii.js';
import { pack, type ScanReply, type ScanRequest } from './pii-scan.js';

const port = parentPort;
if (port === null) throw new Error('pii-worker.ts runs as a worker thread (see pii-scan.ts)');

port.on('message', (m: ScanRequest) => {
  let reply: ScanReply;
  try {
    reply = { id: m.id, packed: pack(m.texts.map(detectPii)) };
  } catch (err) {
    reply = { id: m.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, 'packed' in reply ? [reply.packed.spans.buffer as ArrayBuffer, reply.packed.counts.buffer as ArrayBuffer] : []);
});
