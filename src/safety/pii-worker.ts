/**
 * The body of the PII worker thread (started by pii-scan.ts): scans the texts it is sent (findings packed in typed arrays,
 * pii-findings.ts) or redacts them (redact.ts), and answers with the typed arrays transferred, not copied.
 */
import { parentPort } from 'node:worker_threads';
import { runJob, transferables, type ScanReply, type ScanRequest } from './pii-scan.js';

const port = parentPort;
if (port === null) throw new Error('pii-worker.ts runs as a worker thread (see pii-scan.ts)');

port.on('message', (m: ScanRequest) => {
  let reply: ScanReply;
  try {
    reply = runJob(m);
  } catch (err) {
    reply = { id: m.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, transferables(reply));
});
