/**
 * Requests broken below the JSON body — a path whose percent-encoding does not decode, a body the client stops sending — sent
 * to a gateway in its own process: each is the caller's fault, answered in the envelope (never a 500), and none reaches the
 * last-resort handler, whose count is for the gateway's own bugs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Simulator } from '../../src/simulator/types.js';
import { simGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { rawExchange, replyJson } from '../helpers/raw-socket.js';

const ADMIN = 'admin-key-0123456789abcdef';

/** Writes `text`, closes the client's side after `closeAfterMs`; what the gateway answered. */
const rawRequest = async (url: string, text: string, closeAfterMs = 200): Promise<string> =>
  (await rawExchange(url, text, { endAfterMs: closeAfterMs })).reply;

describe('requests broken below the body, against a gateway process', () => {
  let pa: Simulator;
  let gw: GatewayProcess;

  before(async () => {
    ({ upstream: pa, gw } = await simGatewayProcess({ name: 'pa' }, [
      'governance: { allow_anonymous: true }',
      `server: { admin_key: ${ADMIN} }`,
      'logging: { level: info }',
    ]));
  });
  after(async () => {
    await gw.close();
    await pa.close();
  });

  it('a route parameter that does not percent-decode is a 400 in the envelope, not a 500', async () => {
    for (const [method, path, headers] of [
      ['GET', '/v1/responses/%ZZ', {}],
      ['DELETE', '/v1/responses/resp_%E0%A4%A', {}],
      ['GET', '/v1/models/%', {}],
    ] as const) {
      const res = await fetch(`${gw.url}${path}`, { method, headers });
      const json = (await res.json()) as any;
      assert.equal(res.status, 400, `${method} ${path}: ${JSON.stringify(json)}`);
      assert.equal(json.error.type, 'invalid_request_error');
      assert.equal(json.error.code, 'invalid_path');
      assert.ok('param' in json.error);
    }
    assert.doesNotMatch(gw.output(), /unexpected error caught/);
  });

  it('a request node refuses (headers too large, a broken chunk, an unknown Expect) is refused in the envelope, and the connection closed', async () => {
    const big = await rawRequest(gw.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 2000);
    assert.match(big, /^HTTP\/1\.1 431 /);
    assert.equal(replyJson(big).error.code, 'headers_too_large');
    const chunk = await rawRequest(gw.url, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 2000);
    assert.match(chunk, /^HTTP\/1\.1 400 /);
    const json = replyJson(chunk);
    assert.equal(json.error.type, 'invalid_request_error');
    assert.equal(json.error.code, 'malformed_request');
    const expect = await rawRequest(gw.url, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: nonsense\r\nContent-Length: 2\r\n\r\n{}', 2000);
    assert.match(expect, /^HTTP\/1\.1 417 /);
    assert.equal(replyJson(expect).error.code, 'expectation_failed');
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
  });

  it('a request of many small headers is served whole: none is dropped unseen (Host last, as node\'s client sends it)', async () => {
    const many = Array.from({ length: 1500 }, (_, i) => `x-${i}: 1\r\n`).join('');
    const reply = await rawRequest(gw.url, `GET /v1/models HTTP/1.1\r\n${many}Authorization: Bearer sk-none\r\nHost: x\r\nConnection: close\r\n\r\n`, 2000);
    assert.match(reply, /^HTTP\/1\.1 200 /);
    assert.equal(replyJson(reply).object, 'list');
  });

  it('a body the client stops sending is not the gateway\'s error', async () => {
    const from = gw.output().length;
    const body = JSON.stringify({ model: 'pa/m', messages: [{ role: 'user', content: 'hi' }] });
    // Content-Length promises more than is sent, then the client goes away: on the fast path (JSON) and through express (gzip).
    for (const encoding of ['', 'Content-Encoding: gzip\r\n']) {
      await rawRequest(gw.url, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${encoding}` +
        `Content-Length: ${body.length + 50}\r\n\r\n${body}`);
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(gw.alive());
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
    assert.doesNotMatch(gw.output().slice(from), /unexpected error caught/);
  });
});
