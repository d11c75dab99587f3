import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, post, provider, sims } from '../helpers/gateway.js';

const envelope = (json: any): void => {
  assert.equal(typeof json?.error?.message, 'string');
  assert.ok('type' in json.error && 'param' in json.error && 'code' in json.error, JSON.stringify(json));
};

describe('bad input gets a clear error in the OpenAI envelope', () => {
  let up: Simulator;
  let gw: Gateway;
  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    gw = await gateway({ server: { body_limit: '2kb' }, providers: { up: provider(up, ['m1']) } });
  });
  after(() => closeAll(gw, [up]));

  it('malformed JSON → 400', async () => {
    const res = await post(gw, '/v1/chat/completions', '{"model": "m1", "messages": [');
    assert.equal(res.status, 400);
    envelope(res.json);
    assert.equal(res.json.error.code, 'invalid_json');
  });

  it('missing fields → 400 naming the field', async () => {
    const noModel = await post(gw, '/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] });
    assert.equal(noModel.status, 400);
    assert.equal(noModel.json.error.param, 'model');
    const noMessages = await post(gw, '/v1/chat/completions', { model: 'm1' });
    assert.equal(noMessages.status, 400);
    assert.equal(noMessages.json.error.param, 'messages');
    const noInput = await post(gw, '/v1/embeddings', { model: 'm1' });
    assert.equal(noInput.json.error.param, 'input');
  });

  it('wrong types → 400 naming the field', async () => {
    const res = await post(gw, '/v1/chat/completions', { model: 'm1', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.param, 'temperature');
    assert.match(res.json.error.message, /expected a number, got string/);
    const msgs = await post(gw, '/v1/chat/completions', { model: 'm1', messages: 'hi' });
    assert.equal(msgs.json.error.param, 'messages');
  });

  it('oversized body → 413', async () => {
    const res = await post(gw, '/v1/chat/completions', { model: 'm1', messages: [{ role: 'user', content: 'x'.repeat(5000) }] });
    assert.equal(res.status, 413);
    envelope(res.json);
  });

  it('unknown model → 404 model_not_found through the openai client', async () => {
    const ai = client(gw);
    await assert.rejects(
      ai.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && (err.error as any)?.code === 'model_not_found' && err.status === 404,
    );
    assert.equal(up.requestCount(), 0, 'nothing reached the upstream');
  });

  it('unknown route → 404 in the envelope; admin routes disabled without an admin key', async () => {
    const res = await post(gw, '/v1/nothing', {});
    assert.equal(res.status, 404);
    envelope(res.json);
    const admin = await fetch(`${gw.url}/admin/rules`);
    assert.equal(admin.status, 404);
    envelope(await admin.json());
  });

  it('upstream 4xx keeps the upstream message, no secrets', async () => {
    up.inject({ status: 400, body: { error: { message: 'max_tokens is too large', type: 'invalid_request_error', param: 'max_tokens', code: null } } });
    const res = await post(gw, '/v1/chat/completions', { model: 'm1', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(res.status, 400);
    assert.match(res.json.error.message, /max_tokens is too large/);
    assert.doesNotMatch(res.text, /key-k1/);
  });
});
