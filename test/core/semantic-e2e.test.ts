import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, post, provider, sims } from '../helpers/gateway.js';

const ADMIN = 'admin-key-for-tests-0123456789';
const who = (r: OpenAI.Chat.Completions.ChatCompletion): string => /^\[([\w-]+)\]/.exec(r.choices[0].message.content ?? '')![1];

describe('intent routing from the reference-prompt folder', () => {
  let coder: Simulator;
  let mathy: Simulator;
  let general: Simulator;
  let gw: Gateway;
  let ai: OpenAI;
  before(async () => {
    [coder, mathy, general] = await sims({ protocol: 'openai', name: 'coder' }, { protocol: 'openai', name: 'mathy' }, { protocol: 'openai', name: 'general' });
    gw = await gateway({
      server: { admin_key: ADMIN },
      semantic: { reference_prompts: { watch: false } },
      providers: { coder: provider(coder, ['c']), mathy: provider(mathy, ['m']), general: provider(general, ['g']) },
      aliases: { auto: 'general/g' },
      rules: [
        { name: 'code-to-coder', cel_expression: 'intent == "code" && intent_score > 0.3', targets: [{ provider: 'coder', model: 'c' }] },
        { name: 'math-to-mathy', cel_expression: 'intent == "math"', targets: [{ provider: 'mathy', model: 'm' }] },
        { name: 'embeddings-cheap', cel_expression: 'request_type == "embedding"', targets: [{ provider: 'general', model: 'g' }] },
      ],
    });
    ai = client(gw);
  });
  after(() => closeAll(gw, [coder, mathy, general]));

  it('routes by the meaning of the last user message', async () => {
    const code = await ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'Write a Go function that merges two sorted slices' }] }).withResponse();
    assert.equal(who(code.data), 'coder');
    assert.equal(code.response.headers.get('x-switchyard-intent'), 'code');
    assert.equal(code.response.headers.get('x-switchyard-rule'), 'code-to-coder');

    const math = await ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'What is the integral of 3x squared from 0 to 2?' }] }).withResponse();
    assert.equal(who(math.data), 'mathy');
    assert.equal(math.response.headers.get('x-switchyard-intent'), 'math');

    const chat = await ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hey, how is your day going?' }] }).withResponse();
    assert.equal(who(chat.data), 'general');
    assert.notEqual(chat.response.headers.get('x-switchyard-intent'), 'code');
  });

  it('does not embed when no rule needs it', async () => {
    const { response } = await ai.embeddings.create({ model: 'auto', input: 'Write a Go function' }).withResponse();
    assert.equal(response.headers.get('x-switchyard-rule'), 'embeddings-cheap');
    assert.equal(response.headers.get('x-switchyard-intent'), null, 'the embeddings rule decided before any intent was computed');
  });

  it('POST /v1/classify returns intent, score, margin and the top intents', async () => {
    const res = await post(gw, '/v1/classify', { input: 'My package never arrived and I want a refund' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.intent, 'customer_support');
    assert.ok(res.json.score > 0 && res.json.margin >= 0);
    assert.ok(Array.isArray(res.json.top) && res.json.top[0].intent === 'customer_support');
    const bad = await post(gw, '/v1/classify', { input: 42 });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'input');
  });

  it('explain shows the semantic variables', async () => {
    const res = await fetch(`${gw.url}/admin/route/explain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': ADMIN },
      body: JSON.stringify({ request: { model: 'auto', messages: [{ role: 'user', content: 'Solve 2x + 5 = 17 for x' }] } }),
    });
    const json = (await res.json()) as any;
    assert.equal(json.variables.intent, 'math');
    assert.ok(json.variables.intent_score > 0);
    assert.ok(json.variables.intents.math > 0);
    assert.equal(json.route.rule, 'math-to-mathy');
  });
});
