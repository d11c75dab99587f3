/**
 * Config reload as an operator's mistakes would hit it, against a gateway process watching its file: an empty file, a file
 * caught half written, a CEL error and a YAML error are all refused, named by file and line, and the running config keeps
 * serving throughout.
 */
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { loadSettledConfigFile } from '../../src/config/watch.js';
import type { Simulator } from '../../src/simulator/types.js';
import { sims } from '../helpers/sims.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const VK = 'sk-sy-reload-safety-key-0001';

const configText = (up: Simulator, models: string[], rules = ''): string => [
  'semantic: { enabled: false }',
  'governance:',
  '  keys: [{ id: app, name: app, key: ' + VK + ' }]',
  'providers:',
  `  up: { kind: openai, base_url: "${up.url}", keys: [{ id: k, value: upstream-secret-0001 }], models: [${models.join(', ')}] }`,
  rules,
  '',
].join('\n');

describe('config reload safety (gateway process)', () => {
  let up: Simulator;
  let gw: GatewayProcess;
  const ask = async (model: string): Promise<number> => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${VK}` },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.arrayBuffer();
    return res.status;
  };

  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    gw = await startGatewayProcess(configText(up, ['m']));
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  it('an empty file is refused and the running config keeps serving', async () => {
    assert.equal(await ask('m'), 200);
    await gw.writeConfig('');
    const outcome = await gw.reload();
    assert.match(outcome, /config reload refused/);
    assert.match(outcome, /the file is empty/);
    assert.equal(await ask('m'), 200, 'keys and providers are still there');
  });

  it('a file caught half written is never applied; the finished file is', async () => {
    const full = configText(up, ['m', 'm2']);
    const cut = full.indexOf('providers:');
    const fh = await open(gw.file, 'w');
    await fh.write(full.slice(0, cut)); // keys but no providers yet: applying this would break every request
    // The loader reads while the writer pauses, and must notice that the file is still growing.
    const loaded = loadSettledConfigFile(gw.file, 500);
    await new Promise((r) => setTimeout(r, 60));
    const failures = (await ask('m')) === 200 ? 0 : 1;
    await fh.write(full.slice(cut));
    await fh.close();
    const res = await loaded;
    assert.ok(res.ok && 'up' in res.config.providers, 'the loader waited for the finished file');
    const outcome = await gw.reload();
    assert.match(outcome, /config reloaded/);
    assert.equal(failures, 0, 'no request saw the half-written file');
    assert.equal(await ask('m2'), 200, 'the finished file applied');
  });

  it('a CEL error and a YAML error are refused with the file and line', async () => {
    const rule = ['rules:', '  - name: broken', '    cel_expression: "model == "', '    targets: [{ provider: up, model: m }]'].join('\n');
    await gw.writeConfig(configText(up, ['m'], rule));
    const cel = await gw.reload();
    assert.match(cel, /config reload refused/);
    const line = configText(up, ['m'], rule).split('\n').findIndex((l) => l.includes('cel_expression')) + 1;
    assert.match(cel, new RegExp(`gateway\\.yaml:${line} rules\\[0\\]\\.cel_expression: rule \\\\"broken\\\\"`));

    const text = configText(up, ['m']).replace('models: [m] }', 'models: [m] }\n  other: { kind: "openai');
    await gw.writeConfig(text);
    const yaml = await gw.reload();
    const quoteLine = text.split('\n').findIndex((l) => l.includes('other:')) + 1;
    assert.match(yaml, new RegExp(`gateway\\.yaml:${quoteLine} `), 'the line with the unclosed quote, not the one after it');
    assert.equal(await ask('m'), 200);
    assert.ok(gw.alive());
  });

  it('start-up refuses an empty file with a clear message', () => {
    const res = parseConfigText('\n# nothing here\n', 'gw.yaml');
    assert.ok(!res.ok && /^gw\.yaml: the file is empty/.test(res.errors[0]), JSON.stringify(res));
  });
});
