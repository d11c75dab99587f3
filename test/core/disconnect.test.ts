import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import { gateway } from '../helpers/gateway.js';

describe('client disconnect', () => {
  let upstream: Server;
  let gw: Gateway;
  let upstreamClosedEarly: Promise<boolean>;
  let markClosed: (early: boolean) => void;

  before(async () => {
    upstreamClosedEarly = new Promise((r) => { markClosed = r; });
    // An upstream that streams one chunk every 100 ms for 5 s and records whether its client went away before the end.
    upstream = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      const timer = setInterval(() => {
        if (n++ >= 50) {
          clearInterval(timer);
          res.end('data: [DONE]\n\n');
          markClosed(false);
          return;
        }
        res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content: `t${n} ` }, finish_reason: null }] })}\n\n`);
      }, 100);
      res.on('close', () => {
        if (!res.writableEnded) {
          clearInterval(timer);
          markClosed(true);
        }
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as AddressInfo).port;
    gw = await gateway({ providers: { slow: { kind: 'openai', base_url: `http://127.0.0.1:${port}/v1`, keys: [{ id: 'k', value: 'x' }], models: ['m'] } } });
  });
  after(async () => {
    await gw.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  it('aborts the upstream request when the client goes away mid-stream', async () => {
    const abort = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow/m', stream: true, messages: [{ role: 'user', content: 'go' }] }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /t1/);
    abort.abort();
    const early = await Promise.race([upstreamClosedEarly, new Promise<string>((r) => setTimeout(() => r('timeout'), 3000))]);
    assert.equal(early, true, 'the upstream saw its request aborted before the stream finished');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(gw.registry.provider('slow')!.keys[0].in_flight, 0, 'the attempt was released');
  });
});
