import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { cliArgs, spawnGateway, type SpawnedGateway } from '../helpers/gateway-process.js';

describe('demo mode', () => {
  let gw: SpawnedGateway;
  let elsewhere: string;
  before(async () => {
    // Started from an unrelated folder: the bundled reference prompts and models are found relative to the package.
    elsewhere = await mkdtemp(path.join(tmpdir(), 'switchyard-elsewhere-'));
    gw = await spawnGateway(cliArgs('--demo', '--port', '0'), { cwd: elsewhere });
  });
  after(async () => {
    await gw?.stop();
    await rm(elsewhere, { recursive: true, force: true });
  });

  it('routes the example intents offline, as the printed examples promise, started from any folder', async () => {
    const ai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'local', maxRetries: 0 });
    const cases: Array<[string, string, string]> = [
      ['Write a haiku about trains', 'creative_writing', 'claude'],
      ['Fix this Python function that reverses a list', 'code', 'smart'],
      ['hey, how are you today?', 'chit_chat', 'fast'],
      // A word problem shares little wording with equations: the shipped math references include word problems.
      ['Two trains leave stations 300 km apart and travel toward each other at 70 and 80 km/h. When do they meet?', 'math', 'smart'],
    ];
    for (const [q, intent, provider] of cases) {
      const { response } = await ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: q }] }).withResponse();
      assert.equal(response.headers.get('x-switchyard-intent'), intent, q);
      assert.equal(response.headers.get('x-switchyard-provider'), provider, q);
    }
    assert.match(gw.output(), /jailbreak examples loaded/, 'the attack examples come from the package too');
  });
});
