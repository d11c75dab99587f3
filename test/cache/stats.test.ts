import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CacheStats } from '../../src/cache/stats.js';

test('the per-tenant, per-model and per-intent breakdowns keep a name like __proto__ or constructor as an entry of its own', () => {
  const stats = new CacheStats(5);
  for (const name of ['__proto__', 'constructor', 'm']) stats.record({ type: 'miss', tenant: name, model: name, intent: name });
  const snap = stats.snapshot();
  for (const by of [snap.by_tenant, snap.by_model, snap.by_intent]) {
    assert.equal(Object.getPrototypeOf(by), Object.prototype);
    assert.deepEqual(Object.keys(by).sort(), ['__proto__', 'constructor', 'm']);
    assert.equal(JSON.parse(JSON.stringify(by))['__proto__'].misses, 1);
  }
});
