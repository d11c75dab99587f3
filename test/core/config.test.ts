import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { pendingRestart } from '../../src/config/restart-keys.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, config, quietLogger, sims } from '../helpers/gateway.js';

const yamlFor = (alpha: Simulator, beta: Simulator, aliasTarget: string) => `
semantic: { enabled: false }
governance: { allow_anonymous: true }
providers:
  alpha:
    kind: openai
    base_url: ${alpha.url}
    keys: [{ id: k1, value: "\${ALPHA_KEY:-local}" }]
    models: [m]
  beta:
    kind: openai
    base_url: ${beta.url}
    keys: [{ id: k1, value: local }]
    models: [m2]
aliases:
  chat: ${aliasTarget}
`;

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in time');
}

describe('config validation', () => {
  it('names file, line and path for schema errors', () => {
    const res = parseConfigText('providers:\n  openai:\n    kind: openai\n    base_url: http://x\n    keys:\n      - id: a\n        value: v\n      - id: b\n        value: v\n        weight: heavy\n', 'gw.yaml');
    assert.equal(res.ok, false);
    assert.ok(!res.ok && res.errors.some((e) => /^gw\.yaml:10 providers\.openai\.keys\[1\]\.weight: .*number/.test(e)), !res.ok ? res.errors.join('\n') : '');
  });
  it('reports unset environment variables and unknown providers', () => {
    const env = parseConfigText('providers:\n  p:\n    kind: openai\n    base_url: http://x\n    keys: [{id: a, value: "${NOPE_NOT_SET}"}]\n', 'c.yaml', {});
    assert.ok(!env.ok && /c\.yaml:5 providers\.p\.keys\[0\]\.value: environment variable NOPE_NOT_SET is not set/.test(env.errors[0]), JSON.stringify(env));
    const ref = parseConfigText('aliases:\n  fast: nope/model\n', 'c.yaml');
    assert.ok(!ref.ok && ref.errors.some((e) => /aliases\.fast.*unknown provider 'nope'/.test(e)), JSON.stringify(ref));
  });
  it('refuses a rule target naming a model its provider does not list, with file:line', () => {
    const text = 'providers:\n  p:\n    kind: openai\n    base_url: http://x\n    keys: [{id: a, value: v}]\n    models: [m]\n' +
      'rules:\n  - name: r\n    cel_expression: "true"\n    targets:\n      - { provider: p, model: m }\n      - { provider: p, model: other }\n';
    const res = parseConfigText(text, 'c.yaml');
    assert.ok(!res.ok && res.errors.some((e) => /^c\.yaml:12 rules\[0\]\.targets\[1\]\.model: .*provider 'p' does not list model 'other'/.test(e)), JSON.stringify(res));
    assert.ok(parseConfigText(text.replace('model: other', 'model: m'), 'c.yaml').ok);
  });
  it('reports YAML syntax errors with their line', () => {
    const res = parseConfigText('providers:\n  p: [unclosed\n', 'c.yaml');
    assert.ok(!res.ok && /^c\.yaml:\d+ /.test(res.errors[0]), JSON.stringify(res));
  });
  it('reports an alias without its anchor, and an alias bomb, with their line instead of throwing', () => {
    const alias = parseConfigText('server:\n  port: 8080\naliases:\n  fast: *nope\n', 'c.yaml');
    assert.deepEqual(alias, { ok: false, errors: ['c.yaml:4 alias *nope has no anchor &nope set before it'] });
    const rows = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 7; i++) rows.push(`${'abcdefg'[i]}: &${'abcdefg'[i]} [${Array(10).fill(`*${'abcdefg'[i - 1]}`).join(', ')}]`);
    const bomb = parseConfigText(rows.join('\n') + '\n', 'c.yaml');
    assert.ok(!bomb.ok && /^c\.yaml:2 the document cannot be expanded/.test(bomb.errors[0]!), JSON.stringify(bomb));
  });
  it('refuses a key named __proto__ with its line: a provider of that name used to vanish from a config that loaded', () => {
    const provider = (name: string): string => `providers:\n  ${name}:\n    kind: openai\n    base_url: http://x\n    keys: [{id: a, value: v}]\n    models: [m]\n`;
    const res = parseConfigText(provider('__proto__'), 'c.yaml');
    assert.deepEqual(res, { ok: false, errors: ['c.yaml:2 "__proto__" cannot be a name or a key here (it would be dropped as the file is read)'] });
    const quoted = parseConfigText('server:\n  port: 8080\nproviders:\n  p:\n    kind: openai\n    base_url: http://x\n    headers: {"__proto__": "x"}\n', 'c.yaml');
    assert.ok(!quoted.ok && quoted.errors[0]!.startsWith('c.yaml:7 "__proto__"'), JSON.stringify(quoted));
    const ok = parseConfigText(provider('constructor'), 'c.yaml');
    assert.ok(ok.ok && Object.keys(ok.config.providers).includes('constructor'), 'other built-in names are ordinary keys');
  });
});

describe('restart-only settings', () => {
  it('names the settings a reload cannot apply, and only those', () => {
    const at = (extra: Record<string, any> = {}) => config({
      server: { port: 8080, ...extra.server }, observability: { metrics: { label_cap: 200 }, ...extra.observability },
      semantic: { enabled: false, ...extra.semantic },
    });
    const base = at();
    assert.deepEqual(pendingRestart(base, at({ server: { body_limit: '2mb' } })), [], 'a body limit applies live');
    assert.deepEqual(pendingRestart(base, at({ server: { port: 9090 }, observability: { metrics: { label_cap: 50 } } })), ['server.port', 'observability']);
    assert.deepEqual(pendingRestart(base, at({ semantic: { embed_text: 'all_user' } })), [], 'what text is embedded applies live');
    assert.deepEqual(pendingRestart(base, at({ semantic: { reference_prompts: { dir: 'elsewhere' } } })), ['semantic']);
  });
});

describe('hot reload', () => {
  let alpha: Simulator;
  let beta: Simulator;
  let gw: Gateway;
  let dir: string;
  let file: string;
  before(async () => {
    [alpha, beta] = await sims({ protocol: 'openai', name: 'alpha' }, { protocol: 'openai', name: 'beta' });
    dir = await mkdtemp(join(tmpdir(), 'switchyard-config-'));
    file = join(dir, 'switchyard.yaml');
    await writeFile(file, yamlFor(alpha, beta, 'alpha/m'));
    const res = parseConfigText(yamlFor(alpha, beta, 'alpha/m'), file);
    assert.ok(res.ok);
    gw = await startGateway({ config: res.config, configPath: file, logger: quietLogger, host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await closeAll(gw, [alpha, beta]);
    await rm(dir, { recursive: true, force: true });
  });

  const who = async (): Promise<string> => {
    const res = await client(gw).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] });
    return /^\[(\w+)\]/.exec(res.choices[0].message.content ?? '')![1];
  };

  it('a broken file never replaces a working config; a valid one applies without restart', async () => {
    assert.equal(await who(), 'alpha');
    await writeFile(file, 'providers:\n  alpha: [this is: broken\n');
    assert.deepEqual((await gw.reload()).length > 0, true, 'reload reports the error');
    assert.equal(await who(), 'alpha', 'old config keeps serving');
    await writeFile(file, yamlFor(alpha, beta, 'alpha/m').replace('kind: openai', 'kind: carrier-pigeon'));
    assert.ok((await gw.reload()).some((e) => e.includes('providers.alpha.kind')));
    assert.equal(await who(), 'alpha');

    await writeFile(file, yamlFor(alpha, beta, 'beta/m2'));
    await until(async () => (await who()) === 'beta');
  });
});
