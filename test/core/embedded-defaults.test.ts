/**
 * The gateway started with no config file, as `npm start` runs it: provider keys and endpoints from the environment, the
 * README's "From an app" snippet as the app (the official openai client), loopback simulators as OpenAI and Anthropic.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { AUTO_MODELS, embeddedDefaults } from '../../src/config/defaults.js';
import type { Simulator } from '../../src/simulator/types.js';
import { sims } from '../helpers/sims.js';
import { cliArgs, spawnGateway, type SpawnedGateway } from '../helpers/gateway-process.js';

/** README.md's snippet, verbatim but for the gateway's address. */
async function readmeSnippet(gatewayUrl: string): Promise<OpenAI.Chat.Completions.ChatCompletion> {
  const client = new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey: process.env.SWITCHYARD_KEY ?? 'local' });
  const reply = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'Hello' }] });
  return reply;
}

describe('embedded defaults with provider keys in the environment', () => {
  let openai: Simulator;
  let anthropic: Simulator;
  let gw: SpawnedGateway;
  before(async () => {
    [openai, anthropic] = await sims(
      { protocol: 'openai', name: 'openai-up', apiKeys: ['sk-openai'], models: [AUTO_MODELS.openai] },
      { protocol: 'anthropic', name: 'anthropic-up', apiKeys: ['sk-ant'], models: [AUTO_MODELS.anthropic] },
    );
    gw = await spawnGateway(cliArgs('--port', '0'), {
      env: {
        OPENAI_API_KEY: 'sk-openai',
        OPENAI_BASE_URL: openai.url,
        ANTHROPIC_API_KEY: 'sk-ant',
        // As the Anthropic SDK reads it: the host, without /v1.
        ANTHROPIC_BASE_URL: anthropic.url.replace(/\/v1$/, ''),
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([openai?.close(), anthropic?.close()]);
  });

  it('answers the README snippet through OpenAI, and through Anthropic when OpenAI fails', async () => {
    const first = await readmeSnippet(gw.url);
    assert.equal(first.choices[0].message.content, '[openai-up] Hello');
    assert.equal(openai.requests.at(-1)?.body?.model, AUTO_MODELS.openai);

    openai.inject({ status: 503 }, 10);
    const second = await readmeSnippet(gw.url);
    assert.equal(second.choices[0].message.content, '[anthropic-up] Hello');
    assert.equal(anthropic.requests.at(-1)?.body?.model, AUTO_MODELS.anthropic);
  });

  it('lists auto among its models', async () => {
    const models = await new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'local' }).models.list();
    assert.ok(models.data.some((m) => m.id === 'auto'));
  });
});

describe('embedded defaults without any provider', () => {
  let gw: SpawnedGateway;
  before(async () => { gw = await spawnGateway(cliArgs('--port', '0'), { env: {} }); });
  after(async () => { await gw?.stop(); });

  it('refuses model requests with a 503 that names what to set, once (the SDK does not retry it)', async () => {
    const err = await readmeSnippet(gw.url).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 503);
    assert.equal(err.code, 'no_provider_configured');
    assert.match(err.message, /OPENAI_API_KEY/);
    assert.match(err.message, /ANTHROPIC_API_KEY/);

    let calls = 0;
    const counted = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'local', fetch: (url, init) => { calls++; return fetch(url, init); } });
    await assert.rejects(counted.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }), /OPENAI_API_KEY/);
    assert.equal(calls, 1);
    assert.match(gw.output(), /no providers configured: set OPENAI_API_KEY and\/or ANTHROPIC_API_KEY/);
  });
});

describe('embedded defaults as a config', () => {
  it('with only ANTHROPIC_API_KEY, auto answers through Anthropic at ANTHROPIC_BASE_URL (with or without /v1)', () => {
    for (const base of ['http://127.0.0.1:9/', 'http://127.0.0.1:9/v1']) {
      const cfg = embeddedDefaults({ ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: base });
      assert.deepEqual(Object.keys(cfg.providers), ['anthropic']);
      assert.equal(cfg.providers.anthropic.base_url, 'http://127.0.0.1:9/v1');
      assert.deepEqual(cfg.aliases.auto, { targets: [{ target: `anthropic/${AUTO_MODELS.anthropic}`, weight: 1 }], fallbacks: [] });
    }
  });

  it('with nothing set, has no providers and no auto alias', () => {
    const cfg = embeddedDefaults({});
    assert.deepEqual(cfg.providers, {});
    assert.deepEqual(cfg.aliases, {});
  });
});
