/**
 * Requests built to hurt the gateway, sent to a gateway in its own process: none may end the process, switch off a provider
 * for everyone, or leave the OpenAI envelope; refusals are 400s naming the field, and they reach the request log and metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Simulator } from '../../src/simulator/types.js';
import { sims } from '../helpers/sims.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const ADMIN = 'admin-key-0123456789abcdef';

const envelope = (json: any): void => {
  assert.equal(typeof json?.error?.message, 'string', JSON.stringify(json));
  assert.ok('type' in json.error && 'param' in json.error && 'code' in json.error, JSON.stringify(json));
};

/** An array nested `depth` levels deep. */
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('hostile requests against a gateway process', () => {
  let pa: Simulator;
  let pb: Simulator;
  let gw: GatewayProcess;

  const send = async (body: string | object, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, json, text };
  };
  const admin = async (path: string): Promise<any> => (await fetch(`${gw.url}${path}`, { headers: { 'x-admin-key': ADMIN } })).json();
  const health = async (): Promise<Record<string, { state: string; error_rate: number }>> => (await admin('/dashboard/data')).health;

  before(async () => {
    [pa, pb] = await sims({ protocol: 'openai', name: 'pa' }, { protocol: 'openai', name: 'pb' });
    gw = await startGatewayProcess([
      'semantic: { enabled: false }',
      'governance: { allow_anonymous: true }',
      `server: { admin_key: ${ADMIN} }`,
      'cache: { enabled: true }',
      'circuit: { consecutive_failures: 2, min_requests: 2 }',
      'providers:',
      `  pa: { kind: openai, base_url: "${pa.url}", keys: [{ id: ka, value: pa-secret-value-1 }], models: [m] }`,
      `  pb: { kind: openai, base_url: "${pb.url}", keys: [{ id: kb, value: pb-secret-value-2 }], models: [m] }`,
      'routing: { fallbacks: { "pa/m": ["pb/m"] } }',
      // A policy rule on a body parameter and a header: a caller's odd member names must not step around it.
      'rules:',
      '  - { name: hot-to-pb, cel_expression: \'params.temperature > 1.5 || headers["x-lane"] == "b"\', targets: [{ provider: pb, model: m }] }',
      '',
    ].join('\n'));
  });
  after(async () => {
    await gw.close();
    await Promise.all([pa.close(), pb.close()]);
  });

  it('a model name with CR/LF is refused with a 400 naming the field; a non-Latin one is served with its header encoded', async () => {
    const crlf = await send({ model: 'pa/gpt\r\nSet-Cookie: x=1', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(crlf.status, 400);
    envelope(crlf.json);
    assert.equal(crlf.json.error.param, 'model');
    assert.equal(crlf.headers.get('set-cookie'), null);

    const cjk = await send({ model: 'pa/模型', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(cjk.status, 200);
    assert.equal(cjk.headers.get('x-switchyard-model'), encodeURIComponent('模型'));
    assert.equal(cjk.headers.get('x-switchyard-provider'), 'pa');
    assert.ok(gw.alive(), 'the process is still serving');
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
  });

  it('deeply nested bodies are refused at the edge and never count against a provider', async () => {
    const upstreamCalls = pa.requestCount() + pb.requestCount();
    const deep = `{"model":"pa/m","messages":[{"role":"user","content":"hi"}],"extra":${nested(10_000)}}`;
    for (let i = 0; i < 6; i++) {
      const r = await send(deep);
      assert.equal(r.status, 400);
      envelope(r.json);
      assert.equal(r.json.error.code, 'nesting_too_deep');
      assert.match(r.json.error.param, /^extra/);
    }
    // The same nesting inside a message (where the cache and the adapters would walk it) is refused the same way.
    const inMessage = await send(`{"model":"pa/m","messages":[{"role":"user","content":[{"type":"text","text":"x","deep":${nested(5000)}}]}]}`);
    assert.equal(inMessage.status, 400);
    assert.equal(inMessage.json.error.code, 'nesting_too_deep');
    assert.equal(pa.requestCount() + pb.requestCount(), upstreamCalls, 'nothing reached an upstream');
    const h = await health();
    assert.deepEqual([h.pa.state, h.pb.state], ['healthy', 'healthy']);
    const ready = await fetch(`${gw.url}/ready`);
    assert.equal(ready.status, 200);
    const ok = await send({ model: 'pa/m', messages: [{ role: 'user', content: 'still there?' }] });
    assert.equal(ok.status, 200);
  });

  it('a body of more object members than server.limits.max_members is refused before it is parsed; colons in text do not count', async () => {
    const upstreamCalls = pa.requestCount() + pb.requestCount();
    // 60,000 distinct keys (the default bound is 50,000), in one object and spread over objects in an array.
    const keys = Array.from({ length: 60_000 }, (_, i) => `"k${i}":1`);
    for (const extra of [`{${keys.join(',')}}`, `[${keys.map((k) => `{${k}}`).join(',')}]`]) {
      const r = await send(`{"model":"pa/m","messages":[{"role":"user","content":"hi"}],"extra":${extra}}`);
      assert.equal(r.status, 400);
      envelope(r.json);
      assert.equal(r.json.error.code, 'too_many_members');
      assert.match(r.json.error.message, /more than 50000 object members/);
    }
    assert.equal(pa.requestCount() + pb.requestCount(), upstreamCalls, 'nothing reached an upstream');
    // Colons inside strings are text, not members: a message of 100,000 of them (and escaped quotes) is served.
    const colons = await send({ model: 'pa/m', messages: [{ role: 'user', content: 'a:\\"b'.repeat(100_000).slice(0, 500_000) }] });
    assert.equal(colons.status, 200);
  });

  it('every other route parses a JSON body as the proxy routes do: too many members is refused before it is parsed', async () => {
    // 400,000 distinct keys in 4 MB took JSON.parse 0.3-0.6 s of the event loop; any path (unknown, or behind the admin
    // key) read it for anyone who could reach the port.
    const keys = Array.from({ length: 60_000 }, (_, i) => `"k${i}":1`);
    const wide = `{${keys.join(',')}}`;
    for (const [path, headers] of [['/no/such/route', {}], ['/admin/rules', { 'x-admin-key': ADMIN }], ['/v1/classify', {}]] as const) {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: wide });
      const json = await res.json() as any;
      assert.equal(res.status, 400, path);
      envelope(json);
      assert.equal(json.error.code, 'too_many_members', path);
    }
    // Bodies within the bound are read as before; a broken one is the caller's 400.
    const explain = await fetch(`${gw.url}/admin/route/explain`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-admin-key': ADMIN }, body: '{"request":{"model":"pa/m","messages":[{"role":"user","content":"hi"}]}}' });
    assert.equal(explain.status, 200, await explain.clone().text());
    const broken = await fetch(`${gw.url}/admin/rules`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-admin-key': ADMIN }, body: '{"name":' });
    assert.equal(broken.status, 400);
    assert.equal(((await broken.json()) as any).error.code, 'invalid_json');
  });

  it('a body of more objects and arrays than server.limits.max_containers is refused before it is parsed, on every route', async () => {
    // Bodies with no keys at all, which the member bound does not see: 4 MB of nesting took JSON.parse 0.9-1.3 s, 4 MB of
    // empty objects 0.4 s, on any route, for anyone who could reach the port.
    const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    const empties = `{"model":"pa/m","messages":[{"role":"user","content":"hi"}],"x":[${Array(60_000).fill('{}').join(',')}]}`;
    for (const path of ['/v1/chat/completions', '/no/such/route', '/v1/messages']) {
      for (const body of [deep, empties]) {
        const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const json = await res.json() as any;
        assert.equal(res.status, 400, path);
        assert.equal(typeof json?.error?.message, 'string', path);
        assert.match(json.error.message, /more than 50000 objects and arrays/, path);
      }
    }
    // Brackets in text are text: a message of 100,000 of them is served.
    const text = await send({ model: 'pa/m', messages: [{ role: 'user', content: '[{'.repeat(100_000) }] });
    assert.equal(text.status, 200);
  });

  it('a body of more values than server.limits.max_values is refused before it is parsed; a token array within it is served', async () => {
    // Two million one-digit numbers fit in 4 MB: parsing them held the loop 130-170 ms, and the cache key and the walks
    // after it as long again.
    const numbers = (n: number): string => `{"model":"pa/m","messages":[{"role":"user","content":"hi"}],"x":[${'0,'.repeat(n - 1)}0]}`;
    for (const path of ['/v1/chat/completions', '/no/such/route']) {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: numbers(1_900_000) });
      const json = await res.json() as any;
      assert.equal(res.status, 400, path);
      assert.equal(json.error.code, 'too_many_values', path);
      assert.match(json.error.message, /more than 500000 values/, path);
    }
    // OpenAI takes up to 300,000 tokens in one embeddings request: as a token array, that many numbers are served.
    const tokens = await fetch(`${gw.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"model":"pa/m","input":[${'11,'.repeat(299_999)}11]}` });
    assert.equal(tokens.status, 200, await tokens.clone().text());
    // Commas in text are text.
    assert.equal((await send({ model: 'pa/m', messages: [{ role: 'user', content: ','.repeat(600_000) }] })).status, 200);
  });

  it('message content that is null, an object or a number is a 400 naming the field, as OpenAI answers', async () => {
    for (const content of [null, { text: 'x' }, 42]) {
      const r = await send({ model: 'pa/m', messages: [{ role: 'user', content }] });
      assert.equal(r.status, 400, JSON.stringify(content));
      envelope(r.json);
      assert.equal(r.json.error.param, 'messages[0].content');
    }
    const role = await send({ model: 'pa/m', messages: [{ role: 'wizard', content: 'x' }] });
    assert.equal(role.json.error.param, 'messages[0].role');
  });

  it('oversized strings, too many messages and other content types get OpenAI-style 400s', async () => {
    const big = await send({ model: 'pa/m', messages: [{ role: 'user', content: 'x'.repeat(1_100_000) }] });
    assert.equal(big.status, 400);
    assert.equal(big.json.error.code, 'string_above_max_length');
    assert.equal(big.json.error.param, 'messages[0].content');
    const many = await send({ model: 'pa/m', messages: Array.from({ length: 2049 }, () => ({ role: 'user', content: 'x' })) });
    assert.equal(many.json.error.code, 'array_above_max_length');
    const form = await send('model=pa/m', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 400);
    envelope(form.json);
    assert.equal(form.json.error.code, 'unsupported_content_type');
    const junk = await send('{"model": "pa/m", "messages": [', {});
    assert.equal(junk.json.error.code, 'invalid_json');
  });

  it('refused requests reach the request log and the metrics', async () => {
    const before = gw.output().length;
    const r = await send({ model: 'pa/m', messages: 'nope' }, { 'x-request-id': 'refused-0001' });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('x-request-id'), 'refused-0001');
    const deadline = Date.now() + 5000;
    while (!gw.output().slice(before).includes('refused-0001') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    const line = gw.output().slice(before).split('\n').find((l) => l.includes('refused-0001'));
    assert.ok(line, 'a request log line');
    assert.equal(JSON.parse(line).status, 400);
    const metrics = await (await fetch(`${gw.url}/metrics`, { headers: { 'x-admin-key': ADMIN } })).text();
    assert.match(metrics, /switchyard_request_errors_total\{[^}]*code="400"[^}]*\} \d+/);
  });

  it('cache hits carry the provider, model and attempts headers; stage warnings reach the client', async () => {
    const body = { model: 'pa/m', messages: [{ role: 'user', content: 'cache me please' }] };
    const first = await send(body, { 'x-switchyard-cache-ttl': 'soon' });
    assert.equal(first.status, 200);
    assert.match(first.headers.get('x-switchyard-warnings') ?? '', /x-switchyard-cache-ttl/);
    assert.equal(first.headers.get('x-switchyard-attempts'), '1');
    const hit = await send(body);
    assert.equal(hit.headers.get('x-switchyard-cache'), 'hit-exact');
    assert.equal(hit.headers.get('x-switchyard-provider'), 'cache');
    assert.equal(hit.headers.get('x-switchyard-model'), 'm');
    assert.equal(hit.headers.get('x-switchyard-attempts'), '0');
  });

  it('body members and headers named constructor or __proto__ do not let a request step around a rule', async () => {
    const msg = '"messages":[{"role":"user","content":"route me"}]';
    for (const text of [
      `{"model":"pa/m",${msg},"temperature":1.8}`,
      `{"model":"pa/m",${msg},"temperature":1.8,"constructor":"x"}`,
      `{"model":"pa/m",${msg},"temperature":1.8,"__proto__":{"constructor":{"temperature":0}}}`,
      `{"model":"pa/m",${msg},"temperature":1.8,"metadata":{"constructor":"x"}}`,
    ]) {
      const r = await send(text, { 'x-switchyard-cache': 'bypass' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-switchyard-provider'), 'pb', text);
      assert.equal(r.headers.get('x-switchyard-rule'), 'hot-to-pb', text);
    }
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-lane': 'b', constructor: 'x', 'x-switchyard-cache': 'bypass' },
      body: `{"model":"pa/m",${msg}}`,
    });
    await res.text();
    assert.equal(res.headers.get('x-switchyard-provider'), 'pb');
  });

  it('the process survived every request above and logged no secret', () => {
    assert.ok(gw.alive());
    assert.doesNotMatch(gw.output(), /pa-secret-value-1|pb-secret-value-2/);
  });
});
