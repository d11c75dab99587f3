import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/observability/logger.js';

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
