import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { run } from '../../src/commands/simulate.js';
import { startSimulator } from '../../src/simulator/index.js';

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('simulator', () => {
  it('applies queued faults the given number of times, then the persistent fault, and resets', async () => {
    const sim = await startSimulator({ protocol: 'openai', name: 's' });
    try {
      const chat = () => post(`${sim.url}/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'x' }] });
      sim.setFault({ status: 503 });
      sim.inject({ status: 429 }, 2);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await chat()).status);
      assert.deepEqual(statuses, [429, 429, 503, 503]);
      assert.equal(sim.requestCount(), 4);
      assert.deepEqual(sim.requests[0].fault, { status: 429 });
      sim.reset();
      assert.equal(sim.requestCount(), 0);
      const ok = await chat();
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('x-ratelimit-remaining-requests'), '1000');
      sim.setRemainingRequests(null);
      assert.equal((await chat()).headers.get('x-ratelimit-remaining-requests'), null);
      assert.throws(() => sim.inject({ status: 500 }, 0), RangeError);
    } finally {
      await sim.close();
    }
  });

  it('speaks the Anthropic protocol: version header, validation, SSE event names', async () => {
    const sim = await startSimulator({ protocol: 'anthropic', name: 'c' });
    try {
      const url = `${sim.url}/messages`;
      const msg = { model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
      assert.equal((await post(url, msg)).status, 400); // no anthropic-version
      const h = { 'anthropic-version': '2023-06-01', 'x-api-key': 'k' };
      const noMax = await post(url, { ...msg, max_tokens: undefined }, h);
      assert.equal(noMax.status, 400);
      assert.deepEqual(((await noMax.json()) as { type: string }).type, 'error');
      const systemRole = await post(url, { ...msg, messages: [{ role: 'system', content: 'x' }] }, h);
      assert.equal(systemRole.status, 400);
      const stream = await post(url, { ...msg, stream: true }, h);
      const text = await stream.text();
      const names = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
      assert.deepEqual(names, ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
      assert.equal(sim.requests.at(-1)?.key, 'k');
      const models = (await (await fetch(`${sim.url}/models`, { headers: h })).json()) as { data: Array<{ type: string }> };
      assert.equal(models.data[0].type, 'model');
    } finally {
      await sim.close();
    }
  });

  it('simulate command prints help and rejects bad flags', async () => {
    assert.equal(await run(['--help']), 0);
    assert.equal(await run(['--protocol', 'bogus']), 2);
    assert.equal(await run(['--port=-1']), 2);
  });
});
