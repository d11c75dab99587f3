import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { chunksOf } from '../helpers/stream-parts.js';
import { createAdapter } from '../../src/providers/adapters.js';
import type { ProviderReply } from '../../src/providers/types.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { chatBody, collect, gatewayError, NON_RETRYABLE, streamedText, upstreamRequest } from './helpers.js';

describe('anthropic adapter against the anthropic simulator', () => {
  let sim: Simulator;
  let adapter: ReturnType<typeof createAdapter>;
  before(async () => {
    sim = await startSimulator({ protocol: 'anthropic', name: 'claude', apiKeys: ['sk-ant'], models: ['claude-3-5-haiku-latest'] });
    adapter = createAdapter(
      { name: 'claude', kind: 'anthropic', base_url: sim.url, timeout_ms: 2000, headers: { 'anthropic-beta': 'tools-2024' }, default_max_tokens: 1000 },
      { nonRetryable: NON_RETRYABLE },
    );
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());

  const body = (text: string, extra: Record<string, unknown> = {}) => chatBody(text, { model: 'claude-3-5-haiku-latest', ...extra });

  it('serves chat only', () => {
    assert.deepEqual([...adapter.supports], ['chat']);
  });

  it('translates a request and its reply', async () => {
    const reply: ProviderReply = await adapter.call(upstreamRequest({
      apiKey: 'sk-ant',
      body: { model: 'claude-3-5-haiku-latest', messages: [{ role: 'system', content: 'be terse' }, { role: 'user', content: 'hello claude' }], stop: ['zzz'] },
    }));
    assert.equal(reply.kind, 'json');
    if (reply.kind !== 'json') return;
    assert.equal(reply.raw, undefined);
    const choice = (reply.body.choices as Array<{ message: { content: string }; finish_reason: string }>)[0];
    assert.equal(choice.message.content, '[claude] hello claude');
    assert.equal(choice.finish_reason, 'stop');
    assert.deepEqual(reply.usage, { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7, prompt_tokens_details: { cached_tokens: 0 } });
    assert.equal(reply.warnings, undefined);
    const rec = sim.requests[0];
    assert.equal(rec.path, '/v1/messages');
    assert.equal(rec.headers['x-api-key'], 'sk-ant');
    assert.equal(rec.headers['anthropic-version'], '2023-06-01');
    assert.equal(rec.headers['anthropic-beta'], 'tools-2024');
    assert.equal(rec.headers.authorization, undefined);
    assert.deepEqual(rec.body, {
      model: 'claude-3-5-haiku-latest', messages: [{ role: 'user', content: 'hello claude' }], max_tokens: 1000, system: 'be terse', stop_sequences: ['zzz'],
    });
  });

  it('maps stop_sequence and max_tokens stops', async () => {
    const stopped = await adapter.call(upstreamRequest({ apiKey: 'sk-ant', body: body('one two three', { stop: ' two' }) }));
    const limited = await adapter.call(upstreamRequest({ apiKey: 'sk-ant', body: body('one two three', { max_tokens: 2 }) }));
    assert.ok(stopped.kind === 'json' && limited.kind === 'json');
    const c1 = (stopped.body.choices as Array<{ message: { content: string }; finish_reason: string }>)[0];
    const c2 = (limited.body.choices as Array<{ message: { content: string }; finish_reason: string }>)[0];
    assert.deepEqual([c1.message.content, c1.finish_reason], ['[claude] one', 'stop']);
    assert.deepEqual([c2.message.content, c2.finish_reason], ['[claude] one', 'length']);
  });

  it('round-trips a tool conversation the real API would accept', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const first = await adapter.call(upstreamRequest({ apiKey: 'sk-ant', body: body('weather in Paris', { tools, tool_choice: 'required' }) }));
    assert.equal(first.kind, 'json');
    if (first.kind !== 'json') return;
    const message = (first.body.choices as Array<{ message: { tool_calls: Array<{ id: string; function: { name: string } }> }; finish_reason: string }>)[0];
    assert.equal(message.finish_reason, 'tool_calls');
    const call = message.message.tool_calls[0];
    assert.match(call.id, /^toolu_/);
    assert.equal(call.function.name, 'get_weather');
    const second = await adapter.call(upstreamRequest({
      apiKey: 'sk-ant',
      body: {
        model: 'claude-3-5-haiku-latest', tools,
        messages: [
          { role: 'user', content: 'weather in Paris' },
          { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: call.id, content: 'sunny' },
        ],
      },
    }));
    assert.ok(second.kind === 'json');
    assert.equal((second.body.choices as Array<{ message: { content: string } }>)[0].message.content, '[claude] sunny');
    const bad = await gatewayError(adapter.call(upstreamRequest({
      apiKey: 'sk-ant',
      body: { model: 'claude-3-5-haiku-latest', messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'nope', content: 'y' }] },
    })));
    assert.equal(bad.status, 400);
    assert.equal(bad.retryable, false);
  });

  it('streams text with usage and done', async () => {
    const reply = await adapter.call(upstreamRequest({ apiKey: 'sk-ant', body: body('a b c', { stream: true, stream_options: { include_usage: true } }) }));
    const parts = await collect(reply);
    assert.equal(streamedText(parts), '[claude] a b c');
    assert.deepEqual(parts.at(-1), { type: 'done' });
    const usage = parts.findLast((p) => p.type === 'usage');
    assert.ok(usage?.type === 'usage');
    assert.equal(usage.usage.completion_tokens, 4);
    assert.equal(sim.requests[0].body?.stream, true);
    assert.equal(sim.requests[0].body?.stream_options, undefined);
  });

  it('streams tool-call deltas that reassemble into the arguments', async () => {
    const reply = await adapter.call(upstreamRequest({
      apiKey: 'sk-ant',
      body: body('x', { stream: true, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'f' } } }),
    }));
    const parts = await collect(reply);
    let args = '';
    let name = '';
    let finish = '';
    for (const chunk of chunksOf(parts)) {
      const c = chunk.choices?.[0];
      const calls = c?.delta?.tool_calls as Array<{ function: { name?: string; arguments: string } }> | undefined;
      for (const tc of calls ?? []) {
        args += tc.function.arguments;
        name += tc.function.name ?? '';
      }
      if (c?.finish_reason) finish = c.finish_reason;
    }
    assert.deepEqual([name, args, finish], ['f', '{}', 'tool_calls']);
  });

  it('reports unsupported parameters as warnings and rejects n > 1', async () => {
    const reply: ProviderReply = await adapter.call(upstreamRequest({ apiKey: 'sk-ant', body: body('x', { seed: 4, stream: true }) }));
    assert.deepEqual(reply.warnings, ["parameter 'seed' is not supported by anthropic and was ignored"]);
    await collect(reply);
    const err = await gatewayError(adapter.call(upstreamRequest({ apiKey: 'sk-ant', body: body('x', { n: 3 }) })));
    assert.equal(err.status, 400);
    assert.equal(err.fault, 'caller');
    assert.equal(sim.requestCount(), 1);
  });

  it('maps overloaded, rate limits, bad keys and stream faults', async () => {
    sim.inject({ status: 529 });
    const overloaded = await gatewayError(adapter.call(upstreamRequest({ apiKey: 'sk-ant', body: body('x') })));
    assert.deepEqual([overloaded.status, overloaded.retryable], [502, true]);
    assert.match(overloaded.message, /Overloaded/);
    sim.inject({ status: 429, headers: { 'retry-after': '3' } });
    const limited = await gatewayError(adapter.call(upstreamRequest({ apiKey: 'sk-ant', body: body('x') })));
    assert.deepEqual([limited.status, limited.retryable, limited.retryAfterS], [429, true, 3]);
    const denied = await gatewayError(adapter.call(upstreamRequest({ apiKey: 'wrong', body: body('x') })));
    assert.equal(denied.code, 'upstream_auth_failed');
    sim.inject({ errorEvent: true, afterChunks: 0 });
    const early = await gatewayError(adapter.call(upstreamRequest({ apiKey: 'sk-ant', body: body('x', { stream: true }) })));
    assert.equal(early.retryable, true);
    sim.inject({ errorEvent: true, afterChunks: 4 });
    const parts = await collect(await adapter.call(upstreamRequest({ apiKey: 'sk-ant', body: body('a b c', { stream: true }) })));
    assert.deepEqual(parts.at(-1), { type: 'error', failure: { message: 'Overloaded', type: 'overloaded_error', code: 'overloaded_error', class: 'upstream' } });
    sim.inject({ cutAfterChunks: 3 });
    const cut = await collect(await adapter.call(upstreamRequest({ apiKey: 'sk-ant', body: body('a b c', { stream: true }) })));
    assert.equal(cut.at(-1)?.type, 'error');
    assert.ok(!cut.some((p) => p.type === 'done'));
  });

  it('refuses completions and embeddings', async () => {
    const err = await gatewayError(adapter.call(upstreamRequest({ op: 'embedding', apiKey: 'sk-ant', body: { model: 'm', input: 'x' } })));
    assert.equal(err.status, 400);
    assert.equal(sim.requestCount(), 0);
  });
});
