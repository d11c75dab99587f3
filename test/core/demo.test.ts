import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDemo, type Demo } from '../../src/demo.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { client, quietLogger } from '../helpers/gateway.js';

describe('demo mode', () => {
  let demo: Demo;
  let gw: Gateway;
  before(async () => {
    demo = await startDemo();
    gw = await startGateway({ config: demo.config, logger: quietLogger, host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await gw.close();
    await demo.close();
  });

  it('routes the example intents offline, as the printed examples promise', async () => {
    const ai = client(gw);
    const cases: Array<[string, string, string]> = [
      ['Write a haiku about trains', 'creative_writing', 'claude'],
      ['Fix this Python function that reverses a list', 'code', 'smart'],
      ['hey, how are you today?', 'chit_chat', 'fast'],
    ];
    for (const [q, intent, provider] of cases) {
      const { response } = await ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: q }] }).withResponse();
      assert.equal(response.headers.get('x-switchyard-intent'), intent, q);
      assert.equal(response.headers.get('x-switchyard-provider'), provider, q);
    }
  });
});
