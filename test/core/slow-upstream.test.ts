/**
 * An upstream that sends its reply slowly enough never to trip an idle timeout (a byte now and then) still gets a bounded
 * wait: a JSON reply must arrive whole within `timeout_ms`, and the request is answered either way; what a stream sends
 * after its terminator does not hold the connection either.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import { scriptedUpstreamSuite } from '../helpers/scripted-upstream.js';

/** JSON allows whitespace before the value: an upstream that trickles it sends a reply that never completes in time. */
const TRICKLE = { headers: { 'content-type': 'application/json' }, chunks: Array.from({ length: 2_000 }, () => ' '), gapMs: 50 };

describe('an upstream that trickles its reply', () => {
  const suite = scriptedUpstreamSuite();
  let gw: Gateway | undefined;
  let n = 0;
  const id = () => `slow-${++n}`;

  /** POSTs within a generous client bound; undefined when the gateway had not answered by then. */
  const ask = async (g: Gateway, path: string, body: unknown, rid: string) => {
    try {
      const res = await fetch(`${g.url}${path}`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': rid }, body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      return { status: res.status, json: await res.json() as { error?: { code?: string } } };
    } catch {
      return undefined;
    }
  };

  for (const [what, path, body] of [
    ['a chat completion', '/v1/chat/completions', { model: 'p/m', messages: [{ role: 'user', content: 'hi' }] }],
    ['an embedding', '/v1/embeddings', { model: 'p/m', input: 'hi' }],
  ] as const) {
    it(`${what} whose JSON body never completes within timeout_ms is a 504 upstream timeout, not an endless wait`, async () => {
      gw = await suite.start({
        providers: { p: { kind: 'openai', base_url: suite.up.url, models: ['*'], keys: [{ id: 'k1', value: 'key-k1' }], timeout_ms: 500 } },
      });
      const rid = id();
      suite.up.script(rid, TRICKLE);
      const r = await ask(gw, path, body, rid);
      assert.ok(r !== undefined, 'the gateway answered');
      assert.equal(r.status, 504);
      assert.equal(r.json.error?.code, 'upstream_timeout');
      const k = gw.registry.provider('p')!.keys[0];
      assert.equal(k.in_flight, 0);
    });
  }

  it('a stream that goes on trickling bytes after its terminator has its connection closed, not kept for ever', async () => {
    let closed: () => void = () => undefined;
    const gone = new Promise<void>((r) => { closed = r; });
    const timers: NodeJS.Timeout[] = [];
    const trickler = createServer((req, res: ServerResponse) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: 'stop' }] })}\n\n`);
      res.write('data: [DONE]\n\n');
      // Never ends its body: a comment line every 100 ms keeps any idle timeout from firing.
      const t = setInterval(() => res.write(': still here\n'), 100);
      timers.push(t);
      res.on('close', () => { clearInterval(t); closed(); });
    });
    await new Promise<void>((r) => trickler.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(trickler.address() as AddressInfo).port}/v1`;
      gw = await suite.start({ providers: { p: { kind: 'openai', base_url: url, models: ['*'], keys: [{ id: 'k1', value: 'key-k1' }], timeout_ms: 500 } } });
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'p/m', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.match(await res.text(), /\[DONE\]/);
      const result = await Promise.race([gone.then(() => 'closed'), new Promise<string>((r) => timers.push(setTimeout(() => r('still open'), 20_000)))]);
      assert.equal(result, 'closed');
    } finally {
      for (const t of timers) clearTimeout(t);
      trickler.closeAllConnections();
      await new Promise((r) => trickler.close(r));
    }
  });
});
