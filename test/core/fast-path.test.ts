import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { closeAll, gateway, provider, sims } from '../helpers/gateway.js';

const chat = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });

function send(gw: Gateway, path: string, body: Buffer | string, headers: Record<string, string>, chunked = false): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    if (chunked) { req.write(body.slice(0, 10)); req.end(body.slice(10)); } else req.end(body);
  });
}

describe('the OpenAI routes behave the same on every way in', () => {
  let up: Simulator;
  let gw: Gateway;
  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    gw = await gateway({ server: { body_limit: '1kb' }, providers: { up: provider(up, ['m']) } });
  });
  after(() => closeAll(gw, [up]));

  it('path spelling, query strings and JSON media types', async () => {
    for (const path of ['/v1/chat/completions', '/V1/Chat/Completions', '/v1/chat/completions/', '/v1/chat/completions?x=1']) {
      const res = await send(gw, path, chat, { 'content-type': 'application/json' });
      assert.equal(res.status, 200, path);
      assert.match(res.json.choices[0].message.content, /hello/);
    }
    const vendor = await send(gw, '/v1/chat/completions', chat, { 'content-type': 'application/vnd.api+json; charset=utf-8' });
    assert.equal(vendor.status, 200);
  });

  it('compressed bodies are served too', async () => {
    const res = await send(gw, '/v1/chat/completions', gzipSync(chat), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.equal(res.status, 200);
  });

  it('bodies over the limit get 413, declared or streamed; malformed JSON 400', async () => {
    const big = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(4000) }] });
    assert.equal((await send(gw, '/v1/chat/completions', big, { 'content-type': 'application/json' })).status, 413);
    const chunked = await send(gw, '/v1/chat/completions', big, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, true);
    assert.equal(chunked.status, 413);
    assert.equal(chunked.json.error.code, 'request_too_large');
    const bad = await send(gw, '/v1/chat/completions', '{"model":', { 'content-type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'invalid_json');
  });

  it('a body that is not JSON is refused in the envelope', async () => {
    const res = await send(gw, '/v1/chat/completions', 'model=m', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(res.status, 400);
    assert.equal(typeof res.json.error.message, 'string');
  });
});
