import assert from 'node:assert/strict';
import { test } from 'node:test';
import { laneLayout, ruleTargets } from '../../src/providers/lane-layout.js';
import { config } from '../helpers/config.js';

const cfg = config({
  providers: {
    open: { kind: 'openai', base_url: 'http://127.0.0.1:1/v1', models: ['gpt-4o', 'o*'], keys: [{ id: 'k1', value: 'key-k1', models: ['gpt-4o', 'gpt-4.1', 'ft:*'] }, { id: 'k2', value: 'key-k2' }] },
    named: { kind: 'openai', base_url: 'http://127.0.0.1:1/v1', models: ['m'], keys: [{ id: 'n1', value: 'key-n1' }] },
    any: { kind: 'openai', base_url: 'http://127.0.0.1:1/v1', keys: [{ id: 'a1', value: 'key-a1' }] },
  },
  aliases: { smart: { targets: [{ target: 'any/big' }], fallbacks: ['open/o3'] } },
  routing: { fallbacks: { 'named/m': ['any/small'] } },
});

test('lanes: the models a provider\'s config or a route target names; patterns and caller-chosen names get none', () => {
  const rules = [{ targets: [{ provider: 'any', model: 'ruled' }], fallbacks: undefined, spec: { cascade: [{ provider: 'any', model: 'cheap', checks: { judge: { provider: 'named', model: 'judge' } } }] } }];
  const layout = laneLayout(cfg, ruleTargets(rules));
  assert.deepEqual(layout.open!.keys, ['k1', 'k2']);
  assert.deepEqual([...layout.open!.models].sort(), ['gpt-4.1', 'gpt-4o', 'o3']);
  assert.equal(layout.open!.passThrough, true, 'o* passes models it does not name');
  assert.deepEqual([...layout.named!.models].sort(), ['judge', 'm']);
  assert.equal(layout.named!.passThrough, false);
  assert.deepEqual([...layout.any!.models].sort(), ['big', 'cheap', 'ruled', 'small']);
  assert.equal(layout.any!.passThrough, true, 'no models listed: serves any');
});
