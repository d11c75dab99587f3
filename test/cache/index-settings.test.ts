import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfigText } from '../../src/config/load.js';
import { GRAPH_DEFAULTS } from '../../src/cache/config.js';
import { SemanticCache } from '../../src/cache/semantic-cache.js';

describe('cache index settings', () => {
  it('searches the full vectors with the graph defaults; configured settings win', async () => {
    const logger = pino({ level: 'silent' });
    const plain = await SemanticCache.create({ dim: 512, embedderSpace: 'use-lite-512@0.2.0', logger });
    const tuned = await SemanticCache.create({ dim: 512, logger, config: { index: { ef_search: 100, M: 8 } } });
    try {
      assert.equal(plain.snapshot().index_dims, 512);
      assert.deepEqual(plain.graph, GRAPH_DEFAULTS);
      assert.deepEqual(tuned.graph, { ...GRAPH_DEFAULTS, efSearch: 100, M: 8 });
    } finally {
      await plain.close();
      await tuned.close();
    }
  });

  it('rejects the removed projection key with a message that says what to do, whatever its value', () => {
    for (const value of ['auto', 'off', '{ dims: 64 }']) {
      const res = parseConfigText(`cache:\n  enabled: true\n  index:\n    M: 12\n    projection: ${value}\n`, 'config.yaml');
      assert.equal(res.ok, false);
      if (res.ok) continue;
      assert.equal(res.errors.length, 1, res.errors.join('\n'));
      assert.match(res.errors[0], /^config\.yaml:5 cache\.index\.projection: removed: .*full vectors.*Delete this key\.$/);
    }
    const without = parseConfigText('cache:\n  enabled: true\n  index:\n    M: 12\n', 'config.yaml');
    assert.equal(without.ok, true);
  });
});
