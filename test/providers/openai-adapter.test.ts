import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { chunksOf } from '../helpers/stream-parts.js';
import { createAdapter } from '../../src/providers/adapters.js';
import type { RateLimitInfo } from '../../src/providers/types.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { chatBody, collect, gatewayError, NON_RETRYABLE, streamedText, upstreamRequest } from './helpers.js';

describe('openai adapter against the simulator', () => {
  let sim: Simulator;
  let adapter: ReturnType<typeof createAdapter>;

  before(async () => {
    sim = await startSimulator({ protocol: 'openai', name: 'alpha', apiKeys: ['sk-test'] });
    adapter = createAdapter(
      { name: 'alpha', kind: 'openai', base_url: `${sim.url}/`, timeout_ms: 2000, headers: { 'OpenAI-Organization': 'org-1', Authorization: 'ignored' } },
      { nonRetryable: NON_RETRYABLE },
    );
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());

  it('returns the upstream bytes, parsed body and usage for a JSON reply', async () => {
    const reply = await adapter.call(upstreamRequest({ body: chatBody('hello there world') }));
    assert.equal(reply.kind, 'json');
    if (reply.kind !== 'json') return;
    assert.equal(reply.status, 200);
    assert.ok(reply.raw);
    assert.deepEqual(JSON.parse(reply.raw.toString('utf8')), reply.body);
    const choice = (reply.body.choices as Array<{ message: { content: string } }>)[0];
    assert.equal(choice.message.content, '[alpha] hello there world');
    assert.equal(reply.usage?.prompt_tokens, 3);
    assert.equal(reply.usage?.completion_tokens, 4);
    assert.equal(reply.usage?.total_tokens, 7);
  });

  it('sends the body as given, Bearer auth, static and forwarded headers', async () => {
    const body = chatBody('hi', {
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }], tool_choice: 'auto',
      response_format: { type: 'text' }, n: 1, logprobs: false, user: 'u-1', seed: 7, x_vendor_field: { a: [1, 2] },
    });
    await adapter.call(upstreamRequest({ body, headers: { 'x-trace-id': 't-1' } }));
    const rec = sim.requests[0];
    assert.equal(rec.path, '/v1/chat/completions');
    assert.deepEqual(rec.body, body);
    assert.equal(rec.headers.authorization, 'Bearer sk-test');
    assert.equal(rec.key, 'sk-test');
    assert.equal(rec.headers['openai-organization'], 'org-1');
    assert.equal(rec.headers['x-trace-id'], 't-1');
  });

  it('streams chunks with raw text and ends with done', async () => {
    const reply = await adapter.call(upstreamRequest({ body: chatBody('one two three', { stream: true, stream_options: { include_usage: true } }) }));
    const parts = await collect(reply);
    assert.deepEqual(parts.at(-1), { type: 'done' });
    assert.equal(streamedText(parts), '[alpha] one two three');
    for (const p of parts) if (p.type !== 'done') assert.ok('raw' in p && p.raw !== undefined && typeof JSON.parse(p.raw.data) === 'object', p.type);
    const usage = parts.find((p) => p.type === 'usage');
    assert.ok(usage?.type === 'usage');
    assert.equal(usage.usage.completion_tokens, 4);
  });

  it('passes tool calls through', async () => {
    const reply = await adapter.call(upstreamRequest({
      body: chatBody('weather?', { tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }], tool_choice: 'required' }),
    }));
    assert.equal(reply.kind, 'json');
    if (reply.kind !== 'json') return;
    const choice = (reply.body.choices as Array<{ finish_reason: string; message: { tool_calls: Array<{ function: { name: string; arguments: string } }> } }>)[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls[0].function.name, 'get_weather');
    assert.equal(choice.message.tool_calls[0].function.arguments, '{}');
  });

  it('serves completions and embeddings', async () => {
    const completion = await adapter.call(upstreamRequest({ op: 'completion', body: { model: 'gpt-4o-mini', prompt: 'say this' } }));
    assert.equal(completion.kind, 'json');
    if (completion.kind === 'json') assert.equal((completion.body.choices as Array<{ text: string }>)[0].text, '[alpha] say this');
    const emb = await adapter.call(upstreamRequest({ op: 'embedding', body: { model: 'text-embedding-3-small', input: ['a b', 'c'], dimensions: 16 } }));
    assert.equal(emb.kind, 'json');
    if (emb.kind !== 'json') return;
    const data = emb.body.data as Array<{ embedding: number[] }>;
    assert.equal(data.length, 2);
    assert.equal(data[0].embedding.length, 16);
    assert.ok(Math.abs(Math.hypot(...data[0].embedding) - 1) < 1e-9);
    assert.equal(emb.usage?.prompt_tokens, 3);
    assert.equal(sim.requests[1].path, '/v1/embeddings');
  });

  it('maps 500 to a retryable upstream error', async () => {
    sim.inject({ status: 500 });
    const err = await gatewayError(adapter.call(upstreamRequest({ body: chatBody('x') })));
    assert.equal(err.status, 502);
    assert.equal(err.type, 'upstream_error');
    assert.equal(err.retryable, true);
    assert.equal(err.fault, 'provider');
    assert.match(err.message, /The server had an error/);
  });

  it('maps 429 with retry-after, and reports rate-limit headers', async () => {
    sim.inject({ status: 429, headers: { 'retry-after': '7', 'x-ratelimit-remaining-requests': '0' } });
    const seen: RateLimitInfo[] = [];
    const err = await gatewayError(adapter.call(upstreamRequest({ body: chatBody('x'), onHeaders: (i) => seen.push(i) })));
    assert.equal(err.status, 429);
    assert.equal(err.type, 'rate_limit_error');
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfterS, 7);
    assert.equal(seen[0].remainingRequests, 0);
    sim.setRemainingRequests(42);
    await adapter.call(upstreamRequest({ body: chatBody('x'), onHeaders: (i) => seen.push(i) }));
    assert.equal(seen[1].remainingRequests, 42);
  });

  it('classifies a 400 as the caller\'s error and rejected credentials as a credential failure (502)', async () => {
    sim.inject({ status: 400, body: { error: { message: 'bad field', type: 'invalid_request_error', param: 'x', code: null } } });
    const bad = await gatewayError(adapter.call(upstreamRequest({ body: chatBody('x') })));
    assert.equal(bad.status, 400);
    assert.deepEqual([bad.failure, bad.retryable], ['caller', false]);
    assert.match(bad.message, /bad field/);
    const denied = await gatewayError(adapter.call(upstreamRequest({ body: chatBody('x'), apiKey: 'sk-wrong' })));
    assert.equal(denied.status, 502);
    assert.equal(denied.code, 'upstream_auth_failed');
    assert.deepEqual([denied.failure, denied.retryable], ['credential', true], 'another key may work');
  });

  it('survives a delay shorter than the timeout and times out on a hang', async () => {
    sim.inject({ delayMs: 50 });
    const ok = await adapter.call(upstreamRequest({ body: chatBody('slow') }));
    assert.equal(ok.kind, 'json');
    sim.inject({ hang: true });
    const err = await gatewayError(adapter.call(upstreamRequest({ body: chatBody('x'), timeoutMs: 150 })));
    assert.equal(err.status, 504);
    assert.equal(err.type, 'timeout_error');
    assert.equal(err.retryable, true);
  });

  it('maps a reset connection to a retryable error', async () => {
    sim.inject({ reset: true });
    const err = await gatewayError(adapter.call(upstreamRequest({ body: chatBody('x') })));
    assert.equal(err.status, 502);
    assert.equal(err.code, 'upstream_unreachable');
    assert.equal(err.retryable, true);
  });

  it('maps a JSON body cut halfway to a retryable error', async () => {
    sim.inject({ cutAfterChunks: 0 });
    const err = await gatewayError(adapter.call(upstreamRequest({ body: chatBody('x') })));
    assert.equal(err.retryable, true);
    assert.equal(err.fault, 'provider');
  });

  it('throws when a stream breaks before its first chunk', async () => {
    sim.inject({ cutAfterChunks: 0 });
    const cut = await gatewayError(adapter.call(upstreamRequest({ body: chatBody('x', { stream: true }) })));
    assert.equal(cut.retryable, true);
    assert.equal(cut.status, 502);
    sim.inject({ errorEvent: true, afterChunks: 0 });
    const inBand = await gatewayError(adapter.call(upstreamRequest({ body: chatBody('x', { stream: true }) })));
    assert.equal(inBand.retryable, true);
    assert.equal(inBand.code, 'upstream_stream_error');
  });

  it('ends a stream cut after it started with an error part, never done', async () => {
    sim.inject({ cutAfterChunks: 2 });
    const parts = await collect(await adapter.call(upstreamRequest({ body: chatBody('a b c d', { stream: true }) })));
    assert.equal(chunksOf(parts).length, 2);
    const last = parts.at(-1);
    assert.equal(last?.type, 'error');
    assert.ok(!parts.some((p) => p.type === 'done'));
    if (last?.type === 'error') assert.equal(last.failure.code, 'upstream_stream_interrupted');
  });

  it('turns an in-band error event into an error part', async () => {
    sim.inject({ errorEvent: true, afterChunks: 3 });
    const parts = await collect(await adapter.call(upstreamRequest({ body: chatBody('a b c d', { stream: true }) })));
    assert.equal(chunksOf(parts).length, 3);
    const last = parts.at(-1);
    assert.equal(last?.type, 'error');
    if (last?.type === 'error') {
      assert.equal(last.failure.type, 'server_error');
      assert.match(last.failure.message, /server had an error/);
    }
  });

  it('aborts the upstream request when the client aborts', async () => {
    sim.inject({ hang: true });
    const controller = new AbortController();
    const pending = adapter.call(upstreamRequest({ body: chatBody('x'), abort: controller.signal, timeoutMs: 10_000 }));
    while (sim.requestCount() === 0) await new Promise((r) => setImmediate(r));
    controller.abort();
    const err = await gatewayError(pending);
    assert.equal(err.status, 499);
    assert.equal(err.fault, 'caller');
    await sim.requests[0].finished; // the simulator saw the connection close
  });

  it('stops reading the upstream when the consumer abandons a stream', async () => {
    const slow = await startSimulator({ protocol: 'openai', name: 'slow', tokensPerChunkDelayMs: 20 });
    try {
      const a = createAdapter({ name: 'slow', kind: 'openai', base_url: slow.url, timeout_ms: 2000 }, { nonRetryable: NON_RETRYABLE });
      const reply = await a.call(upstreamRequest({ body: chatBody('w '.repeat(200), { stream: true }) }));
      assert.equal(reply.kind, 'stream');
      if (reply.kind !== 'stream') return;
      for await (const p of reply.parts) if (p.type === 'text-delta') break;
      await slow.requests[0].finished;
    } finally {
      await slow.close();
    }
  });

  it('aborts a started stream when the client aborts and ends it quietly (a client leaving is not an upstream failure)', async () => {
    const slow = await startSimulator({ protocol: 'openai', name: 'slow', tokensPerChunkDelayMs: 20 });
    try {
      const a = createAdapter({ name: 'slow', kind: 'openai', base_url: slow.url, timeout_ms: 2000 }, { nonRetryable: NON_RETRYABLE });
      const controller = new AbortController();
      const reply = await a.call(upstreamRequest({ body: chatBody('w '.repeat(200), { stream: true }), abort: controller.signal }));
      const parts = [];
      if (reply.kind !== 'stream') throw new Error('expected stream');
      for await (const p of reply.parts) {
        parts.push(p);
        if (parts.length === 3) controller.abort();
      }
      assert.ok(parts.length >= 3 && parts.length < 50, `stopped soon after the abort (${parts.length} parts)`);
      assert.ok(parts.every((p) => p.type !== 'error' && p.type !== 'done'), 'no error part and no clean finish');
      await slow.requests[0].finished;
    } finally {
      await slow.close();
    }
  });
});
