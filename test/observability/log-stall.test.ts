/**
 * Logs go to stdout, written asynchronously. When what reads stdout stalls (a full pipe, a stuck log shipper), lines past
 * a bound are dropped rather than held in memory for as long as the stall lasts — the gateway's own log and the request log
 * alike (test/observability/request-log-stall.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const logger = fileURLToPath(new URL('../../src/observability/logger.ts', import.meta.url));

// The child writes twice the bound of warnings to a stdout nobody reads, then says on stderr how many lines were dropped.
const CHILD = `
import { pino } from 'pino';
import { createLogger, LOG_MAX_BUFFER } from ${JSON.stringify(logger)};
const log = createLogger('info');
let dropped = 0;
log[pino.symbols.streamSym].on('drop', () => { dropped++; });
const note = 'x'.repeat(64 * 1024);
for (let i = 0; i < (2 * LOG_MAX_BUFFER) / note.length; i++) {
  log.warn({ note }, 'something to say');
  if (i % 16 === 0) await new Promise((r) => setImmediate(r));
}
process.stderr.write('dropped ' + dropped + '\\n', () => process.kill(process.pid, 'SIGKILL'));
`;

describe('logs whose reader stalls', () => {
  it('drop lines past the bound instead of holding them', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pause(); // never read: the pipe fills within a moment
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const cap = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await new Promise((r) => child.once('exit', r));
    clearTimeout(cap);
    const m = /dropped (\d+)/.exec(err);
    assert.ok(m, `the child reported (${err.slice(0, 500)})`);
    assert.ok(Number(m[1]) > 0, 'lines past the bound were dropped');
  });
});
