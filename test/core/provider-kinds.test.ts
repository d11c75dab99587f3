import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, provider, sims } from '../helpers/gateway.js';

describe('one OpenAI client, three provider protocols', () => {
  let claude: Simulator;
  let azure: Simulator;
  let gw: Gateway;
  let ai: OpenAI;
  before(async () => {
    [claude, azure] = await sims({ protocol: 'anthropic', name: 'claude' }, { protocol: 'azure', name: 'azure', models: ['prod-mini'] });
    gw = await gateway({
      providers: {
        anthropic: provider(claude, ['claude-sonnet-4-5']),
        azure: provider(azure, ['gpt-4o-mini'], [{ id: 'k1' }], { api_version: '2024-10-21', deployments: { 'gpt-4o-mini': 'prod-mini' } }),
      },
      routing: { fallbacks: { 'azure/gpt-4o-mini': ['anthropic/claude-sonnet-4-5'] } },
    });
    ai = client(gw);
  });
  after(() => closeAll(gw, [claude, azure]));

  it('anthropic: system prompt, tools and usage translated both ways', async () => {
    const res = await ai.chat.completions.create({
      model: 'anthropic/claude-sonnet-4-5',
      messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'what is the weather in Oslo' }],
      tools: [{ type: 'function', function: { name: 'weather', description: 'get weather', parameters: { type: 'object', properties: {} } } }],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      max_tokens: 200,
    });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.choices[0].finish_reason, 'tool_calls');
    const call = res.choices[0].message.tool_calls?.[0];
    assert.equal(call?.type === 'function' ? call.function.name : undefined, 'weather');
    assert.ok(res.usage!.prompt_tokens > 0);
    const sent = claude.requests.at(-1)!;
    assert.equal(sent.path, '/v1/messages');
    assert.equal(sent.body!.system, 'You are terse.');
    assert.deepEqual(sent.body!.tool_choice, { type: 'tool', name: 'weather' });
    assert.equal(sent.headers['x-api-key'], 'key-k1');
  });

  it('anthropic: streaming arrives as OpenAI chunks ending cleanly', async () => {
    const stream = await ai.chat.completions.create({ model: 'anthropic/claude-sonnet-4-5', stream: true, messages: [{ role: 'user', content: 'stream from claude' }] });
    let text = '';
    let finish: string | null = null;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.match(text, /^\[claude\] .*stream from claude/);
    assert.equal(finish, 'stop');
  });

  it('azure-openai: deployment URL, api-version and api-key header', async () => {
    const res = await ai.chat.completions.create({ model: 'azure/gpt-4o-mini', messages: [{ role: 'user', content: 'hello azure' }] });
    assert.match(res.choices[0].message.content ?? '', /^\[azure\]/);
    const sent = azure.requests.at(-1)!;
    assert.equal(sent.path, '/openai/deployments/prod-mini/chat/completions?api-version=2024-10-21');
    assert.equal(sent.headers['api-key'], 'key-k1');
  });

  it('falls back across protocols: azure down → anthropic answers', async () => {
    azure.inject({ status: 503 });
    const res = await ai.chat.completions.create({ model: 'azure/gpt-4o-mini', messages: [{ role: 'user', content: 'anyone there' }] });
    assert.match(res.choices[0].message.content ?? '', /^\[claude\]/);
  });
});
