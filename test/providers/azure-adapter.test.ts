import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { chunksOf } from '../helpers/stream-parts.js';
import { createAdapter } from '../../src/providers/adapters.js';
import { azureUrl } from '../../src/providers/azure/azure-openai-adapter.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { chatBody, collect, gatewayError, NON_RETRYABLE, streamedText, upstreamRequest } from './helpers.js';

describe('azure-openai adapter against the azure simulator', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({ protocol: 'azure', name: 'az', apiKeys: ['az-1'], models: ['prod-4o', 'gpt-4o-mini', 'emb'] });
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());

  it('builds deployment URLs with the api-version', () => {
    assert.equal(azureUrl('https://r.openai.azure.com/', 'my dep', 'chat', '2024-10-21'),
      'https://r.openai.azure.com/openai/deployments/my%20dep/chat/completions?api-version=2024-10-21');
    assert.equal(azureUrl('https://r', 'd', 'embedding', 'v'), 'https://r/openai/deployments/d/embeddings?api-version=v');
  });

  it('maps models to deployments, authenticates with api-key, keeps the body', async () => {
    const adapter = createAdapter(
      { name: 'az', kind: 'azure-openai', base_url: sim.url, timeout_ms: 2000, deployments: { 'gpt-4o': 'prod-4o' }, api_version: '2025-01-01-preview' },
      { nonRetryable: NON_RETRYABLE },
    );
    const body = chatBody('hi', { model: 'gpt-4o', temperature: 0.2 });
    const reply = await adapter.call(upstreamRequest({ model: 'gpt-4o', apiKey: 'az-1', body }));
    assert.ok(reply.kind === 'json');
    assert.equal((reply.body.choices as Array<{ message: { content: string } }>)[0].message.content, '[az] hi');
    const rec = sim.requests[0];
    assert.equal(rec.path, '/openai/deployments/prod-4o/chat/completions?api-version=2025-01-01-preview');
    assert.equal(rec.headers['api-key'], 'az-1');
    assert.equal(rec.headers.authorization, undefined);
    assert.deepEqual(rec.body, body);
    // No mapping: the model name is the deployment.
    await adapter.call(upstreamRequest({ model: 'gpt-4o-mini', apiKey: 'az-1', body: chatBody('x') }));
    assert.equal(sim.requests[1].path, '/openai/deployments/gpt-4o-mini/chat/completions?api-version=2025-01-01-preview');
  });

  it('uses the default api-version, streams past the prompt-filter chunk, serves embeddings', async () => {
    const adapter = createAdapter({ name: 'az', kind: 'azure-openai', base_url: sim.url, timeout_ms: 2000 }, { nonRetryable: NON_RETRYABLE });
    const parts = await collect(await adapter.call(upstreamRequest({ model: 'prod-4o', apiKey: 'az-1', body: chatBody('a b', { stream: true }) })));
    assert.equal(sim.requests[0].path, '/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21');
    const first = chunksOf(parts)[0];
    assert.ok(Array.isArray(first.choices) && first.choices.length === 0);
    assert.equal(streamedText(parts), '[az] a b');
    assert.deepEqual(parts.at(-1), { type: 'done' });
    const emb = await adapter.call(upstreamRequest({ op: 'embedding', model: 'emb', apiKey: 'az-1', body: { model: 'emb', input: 'x' } }));
    assert.ok(emb.kind === 'json');
    assert.equal(sim.requests[1].path, '/openai/deployments/emb/embeddings?api-version=2024-10-21');
  });

  it('maps an unknown deployment to model_unavailable (404, another target may serve it) and faults like openai', async () => {
    const adapter = createAdapter({ name: 'az', kind: 'azure-openai', base_url: sim.url, timeout_ms: 2000 }, { nonRetryable: NON_RETRYABLE });
    const missing = await gatewayError(adapter.call(upstreamRequest({ model: 'nope', apiKey: 'az-1', body: chatBody('x') })));
    assert.deepEqual([missing.status, missing.failure, missing.retryable], [404, 'model_unavailable', true]);
    assert.match(missing.message, /deployment/);
    sim.inject({ status: 503 });
    const down = await gatewayError(adapter.call(upstreamRequest({ model: 'prod-4o', apiKey: 'az-1', body: chatBody('x') })));
    assert.deepEqual([down.status, down.failure, down.retryable], [502, 'upstream', true]);
  });
});
