/**
 * A key recovering from an open circuit is probed by the first request after the cooldown. A streamed probe proves the key
 * works with its first part: the circuit closes then, not when the stream ends — a long answer, or a client that reads it
 * slowly, must not keep the key out of service for every other tenant until that one stream is over.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Gateway } from '../../src/gateway.js';
import { post } from '../helpers/gateway.js';
import { scriptedUpstreamSuite } from '../helpers/scripted-upstream.js';

const SSE = { 'content-type': 'text/event-stream' };
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'p/m', messages: [{ role: 'user', content: 'hello' }], ...extra });
const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

describe('a streamed half-open probe', () => {
  const suite = scriptedUpstreamSuite();
  let gw: Gateway | undefined;

  /** One key whose circuit is open after a 500; it may be probed once `cooldown_ms` passed. */
  const opened = async () => {
    gw = await suite.start({
      providers: { p: { kind: 'openai', base_url: suite.up.url, models: ['*'], keys: [{ id: 'k1', value: 'key-k1' }] } },
      circuit: { consecutive_failures: 1, cooldown_ms: 200 },
    });
    suite.up.script('boom', { status: 500, chunks: [JSON.stringify({ error: { message: 'boom', type: 'server_error' } })] });
    assert.equal((await post(gw, '/v1/chat/completions', chat(), { 'x-request-id': 'boom' })).status, 502);
    assert.equal(gw.registry.provider('p')!.keys[0]!.breaker, 'open');
    await sleep(250);
    return gw;
  };

  it('closes the circuit with its first part: other requests are served while it still streams', async () => {
    const g = await opened();
    suite.up.script('long-stream', { headers: SSE, chunks: [chunk('Once upon a time')], stall: true });
    const ac = new AbortController();
    const res = await fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST', signal: ac.signal,
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test', 'x-request-id': 'long-stream' },
      body: JSON.stringify(chat({ stream: true })),
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /Once upon a time/);
    try {
      assert.equal(g.registry.provider('p')!.keys[0]!.breaker, 'closed', 'the probe\'s first part closed the circuit');
      const other = await post(g, '/v1/chat/completions', chat());
      assert.equal(other.status, 200, other.text);
    } finally {
      ac.abort();
      await reader.cancel().catch(() => undefined);
    }
  });

  it('a probe that fails before its first part opens the circuit again', async () => {
    const g = await opened();
    suite.up.script('boom-again', { status: 500, chunks: [JSON.stringify({ error: { message: 'boom', type: 'server_error' } })] });
    assert.equal((await post(g, '/v1/chat/completions', chat({ stream: true }), { 'x-request-id': 'boom-again' })).status, 502);
    assert.equal(g.registry.provider('p')!.keys[0]!.breaker, 'open');
  });
});
