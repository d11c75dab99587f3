/**
 * Errors an upstream reports inside a 2xx reply (an in-band stream error event, an error object sent with 200) are
 * classified by what the upstream said, like an HTTP status: a request the upstream refused as invalid is the caller's
 * error — it stops at once and never counts against the key — so one tenant's bad requests cannot open a provider's
 * circuit for everyone else.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import { gateway, post } from '../helpers/gateway.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';

const SSE = { 'content-type': 'text/event-stream' };
const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'a very long prompt' }], ...extra });
/**
 * The scripted upstream as provider `p` (any model) with `keys` keys; an opened circuit stays open for the test. Callers
 * may choose the key's account (`forward_headers`), so a refusal of the account a caller chose can be told apart.
 */
const keyedGateway = (url: string, provider: Record<string, unknown> = {}, keys = 2) => gateway({
  providers: { p: { kind: 'openai', base_url: url, models: ['*'], keys: Array.from({ length: keys }, (_, i) => ({ id: `k${i + 1}`, value: `key-k${i + 1}` })), forward_headers: ['openai-organization', 'openai-project'], ...provider } },
  circuit: { cooldown_ms: 60_000 },
});
const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

describe('in-band upstream errors are classified by what the upstream said', () => {
  let up: ScriptedUpstream;
  let gw: Gateway | undefined;
  let n = 0;
  const id = () => `inband-${++n}`;

  before(async () => { up = await startScriptedUpstream(); });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });
  after(async () => { await up.close(); });

  /** Two keys, a circuit that opens on the second failure and stays open for the test. */
  const start = async (kind: 'openai' | 'anthropic') => {
    gw = await gateway({
      providers: {
        p: { kind, base_url: up.url, models: ['m'], keys: [{ id: 'k1', value: 'key-k1' }, { id: 'k2', value: 'key-k2' }] },
      },
      circuit: { consecutive_failures: 2, cooldown_ms: 60_000 },
    });
    return gw;
  };

  const healthy = (g: Gateway) => {
    const h = g.registry.provider('p')!;
    assert.deepEqual(h.keys.map((k) => [k.id, k.state, k.in_flight]), [['k1', 'healthy', 0], ['k2', 'healthy', 0]]);
  };

  it('an OpenAI stream whose first event is an invalid_request_error is the caller\'s 400: one attempt, keys untouched', async () => {
    const g = await start('openai');
    const refusal = `data: ${JSON.stringify({ error: { message: "This model's maximum context length is 8192 tokens", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } })}\n\n`;
    for (let i = 0; i < 4; i++) {
      const rid = id();
      up.script(rid, { headers: SSE, chunks: [refusal] });
      const r = await post(g, '/v1/chat/completions', chat('p/m', { stream: true }), { 'x-request-id': rid });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.match(r.json.error.message, /maximum context length/);
      assert.equal(up.seen(rid), 1, 'the same request is not sent to another key');
    }
    healthy(g);
    assert.equal((await post(g, '/v1/chat/completions', chat('p/m'))).status, 200, 'another tenant is still served');
  });

  it('an OpenAI-compatible server\'s in-band error with a numeric 400 code is the caller\'s', async () => {
    const g = await start('openai');
    const refusal = `data: ${JSON.stringify({ error: { object: 'error', message: 'max_tokens is too large', type: 'BadRequestError', code: 400 } })}\n\n`;
    for (let i = 0; i < 3; i++) {
      const rid = id();
      up.script(rid, { headers: SSE, chunks: [refusal] });
      const r = await post(g, '/v1/chat/completions', chat('p/m', { stream: true, max_tokens: 10_000_000 }), { 'x-request-id': rid });
      assert.equal(r.status, 400, r.text);
      assert.equal(up.seen(rid), 1);
    }
    healthy(g);
  });

  it('an in-band server error still counts against the key and moves on to the next one', async () => {
    const g = await start('openai');
    const rid = id();
    up.script(rid, { headers: SSE, chunks: [`data: ${JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } })}\n\n`] });
    const r = await post(g, '/v1/chat/completions', chat('p/m', { stream: true }), { 'x-request-id': rid });
    assert.equal(r.status, 502);
    assert.equal(up.seen(rid), 2, 'tried on both keys');
    const h = g.registry.provider('p')!;
    for (const k of h.keys) assert.equal(k.error_rate, 1);
  });

  it('a stream the upstream ends with an invalid_request_error after its first chunk leaves the key untouched', async () => {
    const g = await start('openai');
    for (let i = 0; i < 3; i++) {
      const rid = id();
      up.script(rid, { headers: SSE, chunks: [chunk('Hel'), `data: ${JSON.stringify({ error: { message: 'Invalid tool schema', type: 'invalid_request_error', code: 'invalid_function_parameters' } })}\n\n`] });
      const r = await post(g, '/v1/chat/completions', chat('p/m', { stream: true }), { 'x-request-id': rid });
      assert.equal(r.status, 200);
      assert.match(r.text, /Invalid tool schema/);
      assert.doesNotMatch(r.text, /\[DONE\]/);
    }
    healthy(g);
    const h = g.registry.provider('p')!;
    for (const k of h.keys) assert.equal(k.error_rate, 0);
  });

  it('an OpenAI-compatible 200 whose body is an invalid_request_error object is the caller\'s 400', async () => {
    const g = await start('openai');
    for (let i = 0; i < 3; i++) {
      const rid = id();
      up.script(rid, { chunks: [JSON.stringify({ error: { message: 'Invalid schema for function "f"', type: 'invalid_request_error', param: 'tools[0]' } })] });
      const r = await post(g, '/v1/chat/completions', chat('p/m'), { 'x-request-id': rid });
      assert.equal(r.status, 400, r.text);
      assert.match(r.json.error.message, /Invalid schema/);
      assert.equal(up.seen(rid), 1);
    }
    healthy(g);
  });

  it('an Anthropic stream that opens with an invalid_request_error event is the caller\'s 400', async () => {
    const g = await start('anthropic');
    const refusal = `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' } })}\n\n`;
    for (let i = 0; i < 3; i++) {
      const rid = id();
      up.script(rid, { headers: SSE, chunks: [refusal] });
      const r = await post(g, '/v1/chat/completions', chat('p/m', { stream: true }), { 'x-request-id': rid });
      assert.equal(r.status, 400, r.text);
      assert.match(r.json.error.message, /prompt is too long/);
      assert.equal(up.seen(rid), 1);
    }
    healthy(g);
  });

  it('an Anthropic overloaded_error event still counts against the key', async () => {
    const g = await start('anthropic');
    const rid = id();
    up.script(rid, { headers: SSE, chunks: [`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`] });
    const r = await post(g, '/v1/chat/completions', chat('p/m', { stream: true }), { 'x-request-id': rid });
    assert.equal(r.status, 502);
    assert.equal(up.seen(rid), 2);
  });
});

describe('a refusal that names the model, or a header the caller sent, is not a refusal of the key', () => {
  let up: ScriptedUpstream;
  let gw: Gateway | undefined;
  before(async () => { up = await startScriptedUpstream(); });
  after(async () => {
    await gw?.close();
    await up.close();
  });

  it('an upstream 403 model_not_found (a model this key may not use) leaves both keys in service for other models', async () => {
    gw = await keyedGateway(up.url);
    const body = { error: { message: 'Project `proj_1` does not have access to model `o1-pro`', type: 'invalid_request_error', param: null, code: 'model_not_found' } };
    for (let i = 0; i < 3; i++) {
      const rid = `model-403-${i}`;
      up.script(rid, { status: 403, chunks: [JSON.stringify(body)] });
      const r = await post(gw, '/v1/chat/completions', chat('p/o1-pro'), { 'x-request-id': rid });
      assert.equal(r.status, 404, r.text);
      assert.equal(r.json.error.code, 'model_not_found');
    }
    const h = gw.registry.provider('p')!;
    assert.deepEqual(h.keys.map((k) => [k.id, k.state]), [['k1', 'healthy'], ['k2', 'healthy']]);
    assert.equal((await post(gw, '/v1/chat/completions', chat('p/gpt-4o-mini'))).status, 200, 'another tenant\'s model is still served');
  });

  it('a 401 still takes the key out of service', async () => {
    await gw?.close();
    gw = await keyedGateway(up.url, {}, 1);
    up.script('revoked-1', { status: 401, chunks: [JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } })] });
    assert.equal((await post(gw, '/v1/chat/completions', chat('p/m'), { 'x-request-id': 'revoked-1' })).status, 502);
    assert.equal(gw.registry.provider('p')!.keys[0]!.state, 'open');
  });

  it('an upstream 401 mismatched_organization (the caller\'s OpenAI-Organization header) is the caller\'s 400; both keys stay in service', async () => {
    await gw?.close();
    gw = await keyedGateway(up.url);
    const body = { error: { message: 'OpenAI-Organization header should match organization for API key', type: 'invalid_request_error', param: null, code: 'mismatched_organization' } };
    for (let i = 0; i < 3; i++) {
      const rid = `org-401-${i}`;
      up.script(rid, { status: 401, chunks: [JSON.stringify(body)] });
      const r = await post(gw, '/v1/chat/completions', chat('p/m'), { 'x-request-id': rid, 'openai-organization': 'org-not-the-keys' });
      assert.equal(r.status, 400, r.text);
      assert.deepEqual([r.json.error.param, r.json.error.code], ['openai-organization', 'upstream_rejected']);
      assert.match(r.json.error.message, /OpenAI-Organization header should match/);
      assert.equal(up.seen(rid), 1, 'not sent to the other key');
    }
    const h = gw.registry.provider('p')!;
    assert.deepEqual(h.keys.map((k) => [k.id, k.state, k.breaker]), [['k1', 'healthy', 'closed'], ['k2', 'healthy', 'closed']]);
    assert.equal((await post(gw, '/v1/chat/completions', chat('p/m'))).status, 200, 'another tenant is still served');
  });

  it('an upstream 401 that names the organization or project the caller\'s header chose, in any code, is the caller\'s 400; both keys stay in service', async () => {
    // OpenAI refuses an unknown organization with "No such organization" (code invalid_organization or none), not
    // mismatched_organization: a tenant's header must still never take a key out of service for the others.
    const refusals: Array<[string, string, Record<string, unknown>]> = [
      ['openai-organization', 'org-nonexistent', { message: 'No such organization: org-nonexistent.', type: 'invalid_request_error', param: null, code: 'invalid_organization' }],
      ['openai-organization', 'Personal', { message: 'No such organization: Personal.', type: 'invalid_request_error', param: null, code: null }],
      ['openai-project', 'proj_other', { message: 'Project `proj_other` does not exist or you do not have access to it.', type: 'invalid_request_error', param: null, code: 'invalid_project' }],
    ];
    for (const [header, value, error] of refusals) {
      await gw?.close();
      gw = await keyedGateway(up.url);
      const rid = `org-words-${header}-${value}`;
      up.script(rid, { status: 401, chunks: [JSON.stringify({ error })] });
      const r = await post(gw, '/v1/chat/completions', chat('p/m'), { 'x-request-id': rid, [header]: value });
      assert.equal(r.status, 400, r.text);
      assert.deepEqual([r.json.error.param, r.json.error.code], [header, 'upstream_rejected'], r.text);
      assert.equal(up.seen(rid), 1, 'not sent to the other key');
      const h = gw.registry.provider('p')!;
      assert.deepEqual(h.keys.map((k) => [k.id, k.state, k.breaker]), [['k1', 'healthy', 'closed'], ['k2', 'healthy', 'closed']], rid);
      assert.equal((await post(gw, '/v1/chat/completions', chat('p/m'))).status, 200, 'another tenant is still served');
    }
  });

  it('a 401 naming an organization on a request without the caller\'s header, from an upstream that reads none, or refusing the key itself, is still the key\'s', async () => {
    const openai: Array<[Record<string, string>, Record<string, unknown>]> = [
      // The key belongs to no organization: nothing the caller sent.
      [{}, { message: 'You must be a member of an organization to use the API.', type: 'invalid_request_error', param: null, code: 'no_organization' }],
      // A revoked key, whatever header came with the request.
      [{ 'openai-organization': 'org-x' }, { message: 'Incorrect API key provided: sk-****.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' }],
    ];
    // An upstream that reads no OpenAI header: its refusal of the key's organization is the key's, whatever the caller sent.
    const anthropic = { kind: 'anthropic' };
    const cases: Array<[Record<string, string>, Record<string, unknown>, Record<string, unknown>?]> = [
      ...openai,
      [{ 'openai-organization': 'org-x' }, { type: 'permission_error', message: 'This organization has been disabled.' }, anthropic],
    ];
    for (const [i, [headers, error, provider]] of cases.entries()) {
      await gw?.close();
      gw = await keyedGateway(up.url, provider ?? {}, 1);
      const rid = `org-key-${i}`;
      up.script(rid, { status: 401, chunks: [JSON.stringify(provider === anthropic ? { type: 'error', error } : { error })] });
      const r = await post(gw, '/v1/chat/completions', chat('p/m'), { 'x-request-id': rid, ...headers });
      assert.equal(r.status, 502, r.text);
      assert.equal(r.json.error.code, 'upstream_auth_failed');
      assert.equal(gw.registry.provider('p')!.keys[0]!.state, 'open', rid);
    }
  });

  it('a 429 or 402 to the account the caller\'s OpenAI-Organization / OpenAI-Project header chose is the caller\'s to wait out: no key rests for the others', async () => {
    const limits: Array<[string, number, Record<string, unknown>]> = [
      ['openai-organization', 429, { message: 'Rate limit reached for gpt-4o in organization org-b on requests per min (RPM): Limit 3, Used 3, Requested 1.', type: 'requests', param: null, code: 'rate_limit_exceeded' }],
      ['openai-project', 402, { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' }],
    ];
    for (const [header, status, error] of limits) {
      await gw?.close();
      gw = await keyedGateway(up.url);
      const rid = `account-${header}-${status}`;
      up.script(rid, { status, headers: { 'content-type': 'application/json', 'retry-after': '30' }, chunks: [JSON.stringify({ error })] });
      const r = await post(gw, '/v1/chat/completions', chat('p/m'), { 'x-request-id': rid, [header]: 'chosen-by-the-caller' });
      assert.equal(r.status, 429, r.text);
      assert.deepEqual([r.json.error.type, r.json.error.param], ['rate_limit_error', header], r.text);
      assert.equal(r.headers.get('retry-after'), '30');
      assert.equal(up.seen(rid), 1, 'not sent to the other key');
      const h = gw.registry.provider('p')!;
      assert.deepEqual(h.keys.map((k) => [k.id, k.state]), [['k1', 'healthy'], ['k2', 'healthy']], rid);
      assert.equal((await post(gw, '/v1/chat/completions', chat('p/m'))).status, 200, 'another tenant is still served');
    }
    // Without the caller's header the account is the key's: it rests.
    await gw?.close();
    gw = await keyedGateway(up.url, {}, 1);
    up.script('account-key', { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '30' }, chunks: [JSON.stringify({ error: limits[0]![2] })] });
    assert.equal((await post(gw, '/v1/chat/completions', chat('p/m'), { 'x-request-id': 'account-key' })).status, 429);
    assert.notEqual(gw.registry.provider('p')!.keys[0]!.state, 'healthy');
  });

  it('a rate limit of the caller-chosen account stated inside a stream, before or after its first chunk, rests no key; without the header it does', async () => {
    const limit = `data: ${JSON.stringify({ error: { message: 'Rate limit reached for gpt-4o in organization org-b on tokens per min (TPM): Limit 30000, Used 30000, Requested 900.', type: 'tokens', param: null, code: 'rate_limit_exceeded' } })}\n\n`;
    for (const [name, chunks] of [['first', [limit]], ['later', [chunk('Hello'), limit]]] as const) {
      await gw?.close();
      gw = await keyedGateway(up.url, {}, 1);
      const rid = `stream-account-${name}`;
      up.script(rid, { headers: SSE, chunks: [...chunks] });
      const r = await post(gw, '/v1/chat/completions', chat('p/m', { stream: true }), { 'x-request-id': rid, 'openai-organization': 'org-chosen-by-the-caller' });
      if (name === 'first') {
        assert.equal(r.status, 429, r.text);
        assert.deepEqual([r.json.error.type, r.json.error.param], ['rate_limit_error', 'openai-organization'], r.text);
      } else {
        assert.equal(r.status, 200);
        assert.match(r.text, /Rate limit reached/);
      }
      assert.equal(gw.registry.provider('p')!.keys[0]!.state, 'healthy', rid);
      assert.equal((await post(gw, '/v1/chat/completions', chat('p/m'))).status, 200, `${rid}: another tenant is still served`);
      // Without the caller's header the account is the key's: it rests.
      await gw.close();
      gw = await keyedGateway(up.url, {}, 1);
      up.script(`${rid}-key`, { headers: SSE, chunks: [...chunks] });
      await post(gw, '/v1/chat/completions', chat('p/m', { stream: true }), { 'x-request-id': `${rid}-key` });
      assert.notEqual(gw.registry.provider('p')!.keys[0]!.state, 'healthy', `${rid}-key`);
    }
  });

  it('the same refusal of an OpenAI-Organization header the provider is configured with is the key\'s: it leaves service', async () => {
    await gw?.close();
    // The static header replaces the caller's (docs/providers.md): a mismatch is the operator's setup, whatever the caller sent.
    gw = await keyedGateway(up.url, { headers: { 'OpenAI-Organization': 'org-not-the-keys' } });
    const body = { error: { message: 'OpenAI-Organization header should match organization for API key', type: 'invalid_request_error', param: null, code: 'mismatched_organization' } };
    up.script('org-configured', { status: 401, chunks: [JSON.stringify(body)] });
    const r = await post(gw, '/v1/chat/completions', chat('p/m'), { 'x-request-id': 'org-configured', 'openai-organization': 'org-of-the-caller' });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.error.code, 'upstream_auth_failed');
    assert.equal(up.seen('org-configured'), 2, 'the other key is tried');
    const h = gw.registry.provider('p')!;
    assert.deepEqual(h.keys.map((k) => [k.id, k.state]), [['k1', 'open'], ['k2', 'open']], 'a broken setup is not hidden as the caller\'s error');
  });

  it('an upstream 401 whose code is a name every object has (constructor, __proto__) is still a refusal of the key, in a whole envelope', async () => {
    for (const code of ['constructor', '__proto__']) {
      await gw?.close();
      gw = await keyedGateway(up.url);
      const rid = `proto-401-${code}`;
      up.script(rid, { status: 401, chunks: [JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code } })] });
      const r = await post(gw, '/v1/chat/completions', chat('p/m'), { 'x-request-id': rid });
      assert.equal(r.status, 502, r.text);
      assert.deepEqual([r.json.error.code, r.json.error.param], ['upstream_auth_failed', null], r.text);
      assert.equal(up.seen(rid), 2, 'the other key was tried');
    }
  });
});
