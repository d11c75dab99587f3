/**
 * A streamed event larger than the gateway carries (an SSE line over MAX_SSE_LINE) is what the request asked for — a
 * Response echoing a long input, several generated images in one `response.completed` — as a JSON reply over its cap is:
 * another key would send as much, so it is the caller's and never counts against the key, or one tenant's requests could
 * open a provider's circuit for everyone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import { MAX_SSE_LINE } from '../../src/providers/sse.js';
import { post } from '../helpers/gateway.js';
import { scriptedUpstreamSuite } from '../helpers/scripted-upstream.js';

const SSE = { 'content-type': 'text/event-stream' };
const chat = { model: 'p/m', messages: [{ role: 'user', content: 'draw four pictures' }], stream: true };
const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
/** One event whose line is over the cap, sent in pieces as an upstream writes it. */
const huge = (): string[] => {
  const text = chunk('x'.repeat(MAX_SSE_LINE + (2 << 20)));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += 1 << 20) pieces.push(text.slice(i, i + (1 << 20)));
  return pieces;
};

describe('an upstream event over the gateway\'s line cap', () => {
  const suite = scriptedUpstreamSuite();
  let gw: Gateway | undefined;

  const start = async () => {
    gw = await suite.start({
      providers: { p: { kind: 'openai', base_url: suite.up.url, models: ['*'], keys: [{ id: 'k1', value: 'key-k1' }, { id: 'k2', value: 'key-k2' }] } },
      circuit: { consecutive_failures: 2, cooldown_ms: 60_000 },
    });
    return gw;
  };
  const healthy = (g: Gateway) => {
    const h = g.registry.provider('p')!;
    assert.deepEqual(h.keys.map((k) => [k.id, k.state, k.error_rate, k.in_flight]), [['k1', 'healthy', 0, 0], ['k2', 'healthy', 0, 0]]);
  };

  it('as the first event: the caller\'s 413, one attempt, keys untouched', async () => {
    const g = await start();
    for (let i = 0; i < 3; i++) {
      const rid = `large-first-${i}`;
      suite.up.script(rid, { headers: SSE, chunks: huge() });
      const r = await post(g, '/v1/chat/completions', chat, { 'x-request-id': rid });
      assert.equal(r.status, 413, r.text.slice(0, 300));
      assert.equal(r.json.error.code, 'reply_too_large');
      assert.equal(suite.up.seen(rid), 1, 'the same request is not sent to another key');
    }
    healthy(g);
    assert.equal((await post(g, '/v1/chat/completions', chat)).status, 200, 'another tenant is still served');
  });

  it('after the first chunk: the stream ends with the error, keys untouched', async () => {
    const g = await start();
    for (let i = 0; i < 3; i++) {
      const rid = `large-later-${i}`;
      suite.up.script(rid, { headers: SSE, chunks: [chunk('Here'), ...huge()] });
      const r = await post(g, '/v1/chat/completions', chat, { 'x-request-id': rid });
      assert.equal(r.status, 200);
      assert.match(r.text, /larger than the gateway carries/);
      assert.doesNotMatch(r.text, /\[DONE\]/);
    }
    healthy(g);
    assert.equal((await post(g, '/v1/chat/completions', chat)).status, 200, 'another tenant is still served');
  });
});
