/**
 * The request log writes asynchronously; when what reads its output stalls (a full pipe, a stuck log shipper) its lines are
 * dropped past a bound instead of gathering in memory for as long as the stall lasts.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createRequestLog, LOG_MAX_BUFFER, requestLogDestination } from '../../src/observability/logger.js';

describe('request log output that stalls', () => {
  it('drops lines past its bound rather than holding them all', { skip: process.platform === 'win32' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-log-'));
    const fifo = join(dir, 'out');
    execFileSync('mkfifo', [fifo]);
    // A reader that opens the pipe and never reads from it.
    const reader = spawn('sh', ['-c', `exec sleep 120 < "${fifo}"`], { stdio: 'ignore' });
    const fd = openSync(fifo, 'w');
    const dest = requestLogDestination(fd);
    dest.on('error', () => undefined);
    let dropped = 0;
    dest.on('drop', () => { dropped++; });
    try {
      const log = createRequestLog('info', dest as unknown as NodeJS.WritableStream);
      const record = { request_id: 'r', note: 'x'.repeat(1000) };
      const lines = Math.ceil((2 * LOG_MAX_BUFFER) / 1000);
      for (let i = 0; i < lines; i++) {
        log.write(record);
        if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
      }
      assert.ok(dropped > 0, 'lines past the bound were dropped');
    } finally {
      reader.kill('SIGKILL');
      await new Promise((r) => reader.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
