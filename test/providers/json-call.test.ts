import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { upstreamPolicy } from '../../src/providers/failure.js';
import { postForJson, type PostOptions } from '../../src/providers/http.js';
import type { RateLimitInfo } from '../../src/providers/types.js';
import { gatewayError } from './helpers.js';

/** A loopback upstream whose answer is chosen per call by the request path. */
type Behaviour = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('postForJson: one JSON call through the dispatcher handler', () => {
  let server: Server;
  let origin: string;
  const behaviours = new Map<string, Behaviour>();
  const closed: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => { body += c; });
      req.on('end', () => behaviours.get(req.url ?? '')!(req, res, body));
      res.on('close', () => { if (!res.writableFinished) closed.push(req.url ?? ''); });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));

  const opts = (over: Partial<PostOptions> = {}): PostOptions => ({
    policy: upstreamPolicy('loop'), headers: { authorization: 'Bearer sk-1' }, body: '{"model":"m"}',
    signal: new AbortController().signal, timeoutMs: 2000, ...over,
  });

  it('returns the reply bytes as received, their parse, the status and the headers; sends body and headers', async () => {
    const reply = '{"id":"x","choices":[{"message":{"content":"héllo"}}],"usage":{"prompt_tokens":1}}';
    let seen: { body: string; auth?: string; type?: string } | undefined;
    behaviours.set('/ok', (req, res, body) => {
      seen = { body, auth: req.headers.authorization, type: req.headers['content-type'] };
      res.writeHead(201, { 'content-type': 'application/json', 'x-ratelimit-remaining-requests': '7' }).end(reply);
    });
    let info: RateLimitInfo | undefined;
    const r = await postForJson(`${origin}/ok`, opts({ onHeaders: (i) => { info = i; } }));
    assert.equal(r.status, 201);
    assert.equal(r.raw.toString('utf8'), reply);
    assert.deepEqual(r.json, JSON.parse(reply));
    assert.equal(r.headers['x-ratelimit-remaining-requests'], '7');
    assert.equal(info?.remainingRequests, 7);
    assert.deepEqual(seen, { body: '{"model":"m"}', auth: 'Bearer sk-1', type: 'application/json' });
  });

  it('gathers a reply sent in many chunks', async () => {
    const text = JSON.stringify({ choices: [], pad: 'x'.repeat(200_000) });
    behaviours.set('/chunked', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < text.length; i += 1000) res.write(text.slice(i, i + 1000));
      res.end();
    });
    const r = await postForJson(`${origin}/chunked`, opts());
    assert.equal(r.raw.toString('utf8'), text);
  });

  it('turns an error status into the classified error, reading only the start of a huge error body', async () => {
    behaviours.set('/limited', (_req, res) => {
      res.writeHead(429, { 'retry-after': '3', 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'slow down' } }));
    });
    const e = await gatewayError(postForJson(`${origin}/limited`, opts()));
    assert.equal(e.status, 429);
    assert.equal(e.code, 'upstream_rate_limited');
    assert.equal(e.retryAfterS, 3);
    assert.match(e.message, /slow down/);

    behaviours.set('/huge-error', (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`boom ${'y'.repeat(300_000)}`);
    });
    const big = await gatewayError(postForJson(`${origin}/huge-error`, opts()));
    assert.equal(big.status, 502);
    assert.equal(big.failure, 'upstream');
    assert.match(big.message, /boom/);
  });

  it('refuses a 2xx reply that is not a JSON object as the upstream\'s failure', async () => {
    behaviours.set('/text', (_req, res) => res.writeHead(200).end('not json'));
    behaviours.set('/array', (_req, res) => res.writeHead(200).end('[1,2]'));
    for (const path of ['/text', '/array']) {
      const e = await gatewayError(postForJson(`${origin}${path}`, opts()));
      assert.equal(e.code, 'upstream_bad_reply');
      assert.equal(e.failure, 'upstream');
    }
  });

  it('a body cut before its end is an upstream connection failure', async () => {
    behaviours.set('/cut', (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"choices":');
      setTimeout(() => res.destroy(), 20);
    });
    const e = await gatewayError(postForJson(`${origin}/cut`, opts()));
    assert.equal(e.code, 'upstream_unreachable');
  });

  it('times out an upstream that sends no headers', async () => {
    behaviours.set('/silent', () => undefined);
    const e = await gatewayError(postForJson(`${origin}/silent`, opts({ timeoutMs: 150 })));
    assert.equal(e.code, 'upstream_timeout');
    assert.equal(e.status, 504);
  });

  it('the caller\'s abort ends the call as client_closed and closes the upstream request', async () => {
    behaviours.set('/slow', (_req, res) => setTimeout(() => { if (!res.destroyed) res.end('{}'); }, 2000));
    const ac = new AbortController();
    const p = postForJson(`${origin}/slow`, opts({ signal: ac.signal }));
    setTimeout(() => ac.abort(), 50);
    const e = await gatewayError(p);
    assert.equal(e.code, 'client_closed');
    for (let i = 0; i < 50 && !closed.includes('/slow'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(closed.includes('/slow'), 'the upstream saw its request closed');

    const gone = new AbortController();
    gone.abort();
    assert.equal((await gatewayError(postForJson(`${origin}/ok`, opts({ signal: gone.signal })))).code, 'client_closed');
  });

  it('a refused connection is an upstream connection failure', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const e = await gatewayError(postForJson(`http://127.0.0.1:${port}/x`, opts()));
    assert.equal(e.code, 'upstream_unreachable');
  });
});
