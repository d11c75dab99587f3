/**
 * Refusals a gateway process makes before it does any work for a request: a body declared larger than server.body_limit is
 * refused at once on every route (not after the whole body has arrived), in the envelope of the caller's protocol; an
 * embeddings request with nothing to embed is refused before any upstream is called.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { Simulator } from '../../src/simulator/types.js';
import { simGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { rawExchange, replyJson } from '../helpers/raw-socket.js';

const LIMIT = 2048;

describe('early refusals, against a gateway process', () => {
  let pa: Simulator;
  let gw: GatewayProcess;

  before(async () => {
    ({ upstream: pa, gw } = await simGatewayProcess({ name: 'pa' }, [
      'governance: { allow_anonymous: true }',
      `server: { body_limit: ${LIMIT}b }`,
    ]));
  });
  after(async () => {
    await gw.close();
    await pa.close();
  });

  it('a body declared over the limit is refused at once on every route, in the caller protocol\'s envelope', async () => {
    const declared = 50 * 1024 * 1024;
    const cases = [
      // The fast path; and express's readers: a compressed body (its declared, compressed size), an edge's own route, any other route.
      { path: '/v1/chat/completions', headers: '', anthropic: false },
      { path: '/v1/chat/completions', headers: 'Content-Encoding: gzip\r\n', anthropic: false },
      { path: '/v1/embeddings', headers: 'Content-Encoding: deflate\r\n', anthropic: false },
      { path: '/v1/messages', headers: 'Content-Encoding: gzip\r\n', anthropic: true },
      { path: '/v1/messages/count_tokens', headers: '', anthropic: true },
      { path: '/v1/classify', headers: '', anthropic: false },
    ];
    for (const c of cases) {
      const head = `POST ${c.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${c.headers}Content-Length: ${declared}\r\n`;
      // A few bytes of the declared body, and the socket kept open: the refusal must not wait for the rest.
      const { reply, ms } = await rawExchange(gw.url, `${head}\r\n{"model":`);
      const what = `${c.path} ${c.headers.trim()}`;
      assert.match(reply, /^HTTP\/1\.1 413 /, `${what}: ${reply.slice(0, 200)}`);
      assert.ok(ms < 2000, `${what}: answered after ${Math.round(ms)} ms`);
      assert.match(reply, /\r\nconnection: close\r\n/i, what);
      const json = replyJson(reply);
      if (c.anthropic) {
        assert.equal(json.type, 'error', what);
        assert.equal(json.error.type, 'request_too_large', what);
      } else {
        assert.equal(json.error.type, 'invalid_request_error', what);
        assert.equal(json.error.code, 'request_too_large', what);
      }
      assert.match(json.error.message, new RegExp(`${LIMIT} byte limit`), what);
    }
    assert.equal(pa.requests.length, 0);
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
  });

  it('a compressed body declared within the limit is still held to it once decompressed', async () => {
    const body = gzipSync(JSON.stringify({ model: 'pa/m', messages: [{ role: 'user', content: 'x'.repeat(LIMIT * 4) }] }));
    assert.ok(body.length < LIMIT);
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as any).error.code, 'request_too_large');
  });

  it('an embeddings input with nothing to embed is a 400 naming input, and no upstream is called', async () => {
    pa.reset();
    for (const input of ['', [], [''], ['a', ''], [[]], [[1, 2], []]]) {
      const res = await fetch(`${gw.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'pa/m', input }) });
      const json = (await res.json()) as any;
      assert.equal(res.status, 400, `${JSON.stringify(input)}: ${JSON.stringify(json)}`);
      assert.equal(json.error.type, 'invalid_request_error');
      assert.equal(json.error.param, 'input');
      assert.equal(typeof json.error.message, 'string');
      assert.ok('code' in json.error);
    }
    assert.equal(pa.requests.length, 0);
    // Something to embed still goes upstream.
    for (const input of ['a', ['a', 'b'], [[1, 2]]]) {
      const res = await fetch(`${gw.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'pa/m', input }) });
      assert.equal(res.status, 200, JSON.stringify(input));
      await res.arrayBuffer();
    }
    assert.equal(pa.requests.length, 3);
  });
});
