import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, isoTimeFormatter } from '../../src/observability/logger.js';

describe('logger redaction', () => {
  it('redacts provider keys, admin keys, authorization and cookies wherever they appear', () => {
    let out = '';
    const sink = new Writable({ write(chunk, _enc, done) { out += chunk; done(); } });
    const log = createLogger('info', sink);
    log.info({
      headers: { authorization: 'Bearer sk-caller', 'x-admin-key': 'admin-secret', cookie: 'session=abc', 'api-key': 'azure-secret' },
      req: { headers: { 'x-admin-key': 'admin-secret-2' }, query: { key: 'admin-in-url' } },
      provider: { keys: [{ id: 'k1', value: 'sk-upstream' }] },
      admin_key: 'admin-secret-3',
      model: 'gpt-test',
    }, 'request');
    const line = JSON.parse(out);
    assert.doesNotMatch(out, /sk-caller|admin-secret|session=abc|azure-secret|admin-in-url|sk-upstream/);
    assert.equal(line.headers.authorization, '[redacted]');
    assert.equal(line.provider.keys[0].id, 'k1');
    assert.equal(line.model, 'gpt-test');
  });
});

describe('log line time', () => {
  it('writes the same text as a full ISO date, across milliseconds, seconds and days', () => {
    let t = 0;
    const time = isoTimeFormatter(() => t);
    for (const at of [Date.UTC(2026, 0, 2, 3, 4, 5, 678), Date.UTC(2026, 0, 2, 3, 4, 5, 9), Date.UTC(2026, 0, 2, 3, 4, 5, 40),
      Date.UTC(2026, 0, 2, 3, 4, 6, 0), Date.UTC(2026, 0, 2, 3, 4, 5, 999), Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1, 0, 0, 0, 1)]) {
      t = at;
      assert.equal(time(), `,"time":"${new Date(at).toISOString()}"`);
    }
  });
});
