/**
 * A client that stops reading its reply (the connection stays open, nothing is taken) cannot hold the gateway: past
 * `server.write_timeout_ms` its connection is closed, which ends a stream, aborts its upstream call and gives back its place,
 * and frees a written reply's bytes. Without it the wait for the client to drain had no end.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import { scriptedUpstreamSuite } from '../helpers/scripted-upstream.js';

const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
/** Far more than the socket buffers on both sides hold: the gateway must wait for the client to drain. */
const BIG = 64 * 1024 * 1024;

/** Sends `body` to `path` on a raw socket that never reads the reply (a paused socket does not see the server close it). */
function neverRead(g: Gateway, path: string, body: unknown, rid: string): net.Socket {
  const u = new URL(g.url);
  const text = JSON.stringify(body);
  const s = net.connect(Number(u.port), u.hostname, () => {
    s.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-request-id: ${rid}\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    s.pause();
  });
  s.on('error', () => undefined);
  return s;
}

const connections = (g: Gateway): Promise<number> => new Promise((resolve, reject) => g.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

/** True once the gateway holds no client connection and `idle` holds, polled for at most `capMs`. */
async function released(g: Gateway, idle: () => boolean, capMs = 15_000): Promise<boolean> {
  const until = performance.now() + capMs;
  while (performance.now() < until) {
    if (await connections(g) === 0 && idle()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe('a client that stops reading', () => {
  const suite = scriptedUpstreamSuite();
  let gw: Gateway | undefined;

  const start = async (writeTimeoutMs = 300) => {
    gw = await suite.start({
      server: { write_timeout_ms: writeTimeoutMs },
      providers: { p: { kind: 'openai', base_url: suite.up.url, models: ['*'], keys: [{ id: 'k1', value: 'key-k1' }] } },
    });
    return gw;
  };

  it('of a stream is cut off: its connection closed, its upstream call ended and its place given back', async () => {
    const g = await start();
    const piece = chunk('x'.repeat(60_000));
    suite.up.script('stream-1', { headers: { 'content-type': 'text/event-stream' }, chunks: Array.from({ length: Math.ceil(BIG / piece.length) }, () => piece), gapMs: 1 });
    const s = neverRead(g, '/v1/chat/completions', { model: 'p/m', stream: true, messages: [{ role: 'user', content: 'hi' }] }, 'stream-1');
    try {
      // The stream has started (the key holds it) before the client's silence is judged.
      for (let i = 0; i < 300 && g.registry.provider('p')!.keys[0].in_flight === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await released(g, () => g.registry.provider('p')!.keys[0].in_flight === 0), true, 'connection closed, upstream call ended');
    } finally {
      s.destroy();
    }
  });

  it('of a large JSON reply has its connection closed rather than the reply held in memory', async () => {
    const g = await start();
    const content = 'y'.repeat(BIG / 2);
    suite.up.script('json-1', { chunks: [JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] })] });
    const s = neverRead(g, '/v1/chat/completions', { model: 'p/m', messages: [{ role: 'user', content: 'hi' }] }, 'json-1');
    try {
      for (let i = 0; i < 300 && suite.up.seen('json-1') === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await released(g, () => true), true, 'connection closed');
    } finally {
      s.destroy();
    }
  });

  it('of a large JSON reply who keeps reading, slowly, gets it whole: the timeout bounds each wait, not the whole reply', async () => {
    const g = await start(1_000);
    const content = 'z'.repeat(BIG / 4);
    suite.up.script('json-2', { chunks: [JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] })] });
    const res = await fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'json-2' },
      body: JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200);
    // About 5 MB a second: over 3 s in all, more than three times the write timeout, never idle for long.
    const reader = res.body!.getReader();
    const reading = performance.now();
    let got = 0;
    let sincePause = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got += value.length;
      sincePause += value.length;
      if (sincePause >= 512 * 1024) {
        sincePause = 0;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.equal(got, Number(res.headers.get('content-length')));
    assert.ok(got > BIG / 4);
    assert.ok(performance.now() - reading > 3 * 1_000, 'the reply took longer in all than three write timeouts');
  });
});
