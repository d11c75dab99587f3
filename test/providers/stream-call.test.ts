import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { upstreamPolicy } from '../../src/providers/failure.js';
import type { PostOptions } from '../../src/providers/http.js';
import { postForStream, type StreamBody } from '../../src/providers/stream-call.js';
import { gatewayError } from './helpers.js';

/** A loopback upstream whose answer is chosen per call by the request path. */
type Behaviour = (req: IncomingMessage, res: ServerResponse) => void;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function readAll(body: StreamBody): Promise<string> {
  let text = '';
  for await (const chunk of body) text += chunk.toString('utf8');
  return text;
}

describe('postForStream: one streamed call through the dispatcher handler', () => {
  let server: Server;
  let origin: string;
  const behaviours = new Map<string, Behaviour>();
  /** The remote port of each request, by path: the same port twice is one kept connection. */
  const ports = new Map<string, number[]>();
  const closedEarly: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '';
      ports.set(path, [...(ports.get(path) ?? []), req.socket.remotePort ?? 0]);
      res.on('close', () => { if (!res.writableFinished) closedEarly.push(path); });
      req.resume().on('end', () => behaviours.get(path)!(req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));

  const opts = (over: Partial<PostOptions> = {}): PostOptions => ({
    policy: upstreamPolicy('loop'), headers: {}, body: '{"model":"m","stream":true}',
    signal: new AbortController().signal, timeoutMs: 2000, ...over,
  });

  it('hands on the chunks in order, and a clean release keeps the connection for the next call', async () => {
    behaviours.set('/sse', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-ratelimit-remaining-requests': '9' });
      let i = 0;
      const tick = (): void => {
        if (i < 5) {
          res.write(`data: ${i++}\n\n`);
          setImmediate(tick);
        } else res.end('data: [DONE]\n\n');
      };
      tick();
    });
    for (let call = 0; call < 2; call++) {
      let remaining: number | undefined;
      const r = await postForStream(`${origin}/sse`, opts({ onHeaders: (info) => { remaining = info.remainingRequests; } }));
      assert.equal(r.status, 200);
      assert.equal(remaining, 9);
      assert.equal(await readAll(r.body), 'data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\ndata: [DONE]\n\n');
      r.body.release(true);
      await new Promise((resolve) => setImmediate(resolve)); // the pool takes the connection back once the reply is over
    }
    const seen = ports.get('/sse')!;
    assert.equal(seen.length, 2);
    assert.equal(seen[0], seen[1], 'the second call went over the first one\'s connection');
  });

  it('pauses the upstream while the reader does not read, and loses nothing', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    const total = 2000; // 32 MB offered
    let written = 0;
    let finished = false;
    behaviours.set('/flood', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pump = (): void => {
        while (written < total) {
          written++;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end(() => { finished = true; });
      };
      pump();
    });
    const r = await postForStream(`${origin}/flood`, opts());
    await sleep(300);
    // What left the upstream while nobody read: the socket buffers and the reader's queue, a few MB at most.
    assert.ok(written * chunk.length < 8 * 1024 * 1024, `${written} chunks written with no reader`);
    assert.equal(finished, false);
    const text = await readAll(r.body);
    assert.equal(text.length, total * chunk.length);
    r.body.release(true);
  });

  it('reads asked for before their chunks arrive settle in order, however many wait', async () => {
    behaviours.set('/later', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      setTimeout(() => res.write('data: a\n\n'), 30);
      setTimeout(() => res.end('data: b\n\n'), 60);
    });
    const r = await postForStream(`${origin}/later`, opts());
    const it = r.body[Symbol.asyncIterator]();
    const [a, b, end] = await Promise.all([it.next(), it.next(), it.next()]);
    assert.equal(a.value?.toString('utf8'), 'data: a\n\n');
    assert.equal(b.value?.toString('utf8'), 'data: b\n\n');
    assert.equal(end.done, true);
    r.body.release(true);
  });

  it('a release before the end closes the upstream request', async () => {
    behaviours.set('/long', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => res.write('data: more\n\n'), 10);
      res.on('close', () => clearInterval(timer));
    });
    const r = await postForStream(`${origin}/long`, opts());
    const it = r.body[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    r.body.release(false);
    for (let i = 0; i < 100 && !closedEarly.includes('/long'); i++) await sleep(10);
    assert.ok(closedEarly.includes('/long'), 'the upstream saw its request closed');
    assert.equal((await it.next()).done, true, 'a released body reads as ended');
  });

  it('a connection cut mid-stream fails the read after the chunks that came before it', async () => {
    behaviours.set('/cut', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: a\n\n');
      setTimeout(() => res.destroy(), 30);
    });
    const r = await postForStream(`${origin}/cut`, opts());
    const it = r.body[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.value?.toString('utf8'), 'data: a\n\n');
    await assert.rejects(it.next());
    r.body.release(false);
  });

  it('an error status is the classified error, from the start of its body', async () => {
    behaviours.set('/limited', (_req, res) => {
      res.writeHead(429, { 'retry-after': '2', 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'slow down' } }));
    });
    const e = await gatewayError(postForStream(`${origin}/limited`, opts()));
    assert.equal(e.status, 429);
    assert.equal(e.retryAfterS, 2);
    assert.match(e.message, /slow down/);
    behaviours.set('/huge-error', (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`boom ${'y'.repeat(300_000)}`);
    });
    const big = await gatewayError(postForStream(`${origin}/huge-error`, opts()));
    assert.equal(big.failure, 'upstream');
    assert.match(big.message, /boom/);
  });

  it('the caller\'s abort before the reply is client_closed; silence past the timeout is the upstream\'s', async () => {
    behaviours.set('/silent', () => undefined);
    const ac = new AbortController();
    const p = postForStream(`${origin}/silent`, opts({ signal: ac.signal }));
    setTimeout(() => ac.abort(), 30);
    assert.equal((await gatewayError(p)).code, 'client_closed');
    const e = await gatewayError(postForStream(`${origin}/silent`, opts({ timeoutMs: 150 })));
    assert.equal(e.code, 'upstream_timeout');
  });
});
