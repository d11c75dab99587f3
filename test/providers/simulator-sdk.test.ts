/**
 * The official `openai` SDK against the simulator: proves the simulator speaks the OpenAI and Azure OpenAI protocols.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI, { AzureOpenAI } from 'openai';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';

describe('openai SDK against the openai simulator', () => {
  let sim: Simulator;
  let client: OpenAI;
  before(async () => {
    sim = await startSimulator({ protocol: 'openai', name: 'alpha', apiKeys: ['sk-good'], models: ['gpt-4o-mini', 'text-embedding-3-small'] });
    client = new OpenAI({ baseURL: sim.url, apiKey: 'sk-good', maxRetries: 0 });
  });
  after(() => sim.close());

  it('chat completion echoes the last user message with usage', async () => {
    const r = await client.chat.completions.create({
      model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }],
    });
    assert.equal(r.object, 'chat.completion');
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.model, 'gpt-4o-mini');
    assert.equal(r.choices[0].message.content, '[alpha] hello there');
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.deepEqual([r.usage?.prompt_tokens, r.usage?.completion_tokens, r.usage?.total_tokens], [4, 3, 7]);
  });

  it('streams with include_usage, n choices and logprobs', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a b c' }], stream: true, n: 2, logprobs: true, top_logprobs: 2,
      stream_options: { include_usage: true },
    });
    const text = ['', ''];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let logprobTokens = 0;
    const finishes: string[] = [];
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text[c.index] += c.delta.content ?? '';
        logprobTokens += c.logprobs?.content?.length ?? 0;
        if (c.finish_reason) finishes.push(c.finish_reason);
        for (const lp of c.logprobs?.content ?? []) assert.equal(lp.top_logprobs.length, 2);
      }
    }
    assert.deepEqual(text, ['[alpha] a b c', '[alpha] a b c']);
    assert.deepEqual(finishes, ['stop', 'stop']);
    assert.equal(logprobTokens, 8);
    assert.equal(usage?.completion_tokens, 8);
  });

  it('accumulates a streamed tool call with the SDK helper', async () => {
    const runner = client.chat.completions.stream({
      model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'weather in Paris' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0].message.tool_calls?.[0];
    assert.equal(call?.type, 'function');
    assert.equal(call?.type === 'function' ? call.function.name : '', 'get_weather');
    assert.equal(call?.type === 'function' ? call.function.arguments : '', '{}');
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
  });

  it('json_object mode returns JSON content; stop and max_tokens cut the reply', async () => {
    const json = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'q' }], response_format: { type: 'json_object' } });
    assert.deepEqual(JSON.parse(json.choices[0].message.content ?? ''), { reply: '[alpha] q' });
    const stopped = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one two three' }], stop: [' two'] });
    assert.equal(stopped.choices[0].message.content, '[alpha] one');
    const limited = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one two three' }], max_tokens: 2 });
    assert.equal(limited.choices[0].message.content, '[alpha] one');
    assert.equal(limited.choices[0].finish_reason, 'length');
  });

  it('completions echo the prompt, streamed too', async () => {
    const r = await client.completions.create({ model: 'gpt-4o-mini', prompt: ['first', 'second'], logprobs: 1 });
    assert.deepEqual(r.choices.map((c) => c.text), ['[alpha] first', '[alpha] second']);
    assert.deepEqual(r.choices[0].logprobs?.tokens, ['[alpha]', ' first']);
    let text = '';
    for await (const c of await client.completions.create({ model: 'gpt-4o-mini', prompt: 'x y', stream: true })) text += c.choices[0]?.text ?? '';
    assert.equal(text, '[alpha] x y');
  });

  it('embeddings: deterministic unit vectors, base64 (SDK default) and float', async () => {
    const a = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['same', 'other'] });
    const b = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'same', encoding_format: 'float' });
    assert.equal(a.data[0].embedding.length, 8);
    assert.ok(a.data[0].embedding.every((x, i) => Math.abs(x - b.data[0].embedding[i]) < 1e-6));
    assert.notDeepEqual(a.data[0].embedding, a.data[1].embedding);
    assert.ok(Math.abs(Math.hypot(...b.data[0].embedding) - 1) < 1e-9);
    const wide = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'same', dimensions: 64 });
    assert.equal(wide.data[0].embedding.length, 64);
  });

  it('lists models and rejects unknown models and keys in the OpenAI error shape', async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    assert.deepEqual(models, ['gpt-4o-mini', 'text-embedding-3-small']);
    await assert.rejects(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found');
    const wrong = new OpenAI({ baseURL: sim.url, apiKey: 'sk-bad', maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError && err.code === 'invalid_api_key');
  });

  it('injected faults surface as the SDK error classes', async () => {
    sim.inject({ status: 429, headers: { 'retry-after': '1' } });
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => err instanceof OpenAI.RateLimitError && err.headers.get('retry-after') === '1');
    sim.inject({ errorEvent: true, afterChunks: 2 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a b c' }], stream: true });
    await assert.rejects(async () => { for await (const _ of stream) { /* drain */ } }, (err: unknown) => err instanceof OpenAI.APIError);
  });
});

describe('openai SDK (AzureOpenAI) against the azure simulator', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({ protocol: 'azure', name: 'azure-east', apiKeys: ['az-key'], models: ['prod-4o'] });
  });
  after(() => sim.close());

  it('serves chat, streams and embeddings on deployment URLs', async () => {
    const client = new AzureOpenAI({ endpoint: sim.url, apiKey: 'az-key', apiVersion: '2024-10-21', deployment: 'prod-4o', maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi azure' }] });
    assert.equal(r.choices[0].message.content, '[azure-east] hi azure');
    let text = '';
    for await (const c of await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'a b' }], stream: true })) {
      text += c.choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, '[azure-east] a b');
    const e = await client.embeddings.create({ model: 'gpt-4o', input: 'x' });
    assert.equal(e.data[0].embedding.length, 8);
    const rec = sim.requests[0];
    assert.equal(rec.path, '/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21');
    assert.equal(rec.headers['api-key'], 'az-key');
  });

  it('requires api-version and a known deployment, and checks the key', async () => {
    const res = await fetch(`${sim.url}/openai/deployments/prod-4o/chat/completions`, {
      method: 'POST', headers: { 'api-key': 'az-key', 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /api-version/);
    const other = new AzureOpenAI({ endpoint: sim.url, apiKey: 'az-key', apiVersion: '2024-10-21', deployment: 'missing', maxRetries: 0 });
    await assert.rejects(other.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => err instanceof OpenAI.NotFoundError);
    const wrong = new AzureOpenAI({ endpoint: sim.url, apiKey: 'bad', apiVersion: '2024-10-21', deployment: 'prod-4o', maxRetries: 0 });
    await assert.rejects(wrong.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => err instanceof OpenAI.AuthenticationError);
  });
});
