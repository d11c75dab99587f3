/**
 * The `model` label of the request, token and cost metrics is a model the config names. A caller may name any model of a
 * configured provider (`provider/<model>` is passed through), and each label keeps only `label_cap` values, the first
 * come: a caller's made-up names (each one a cheap request the upstream refuses) must not take them and leave the
 * configured models counted as "other".
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeAll, gateway, post, provider, sims } from '../helpers/gateway.js';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { sample } from './harness.js';

describe('metrics: the model label', () => {
  let sim: Simulator;
  let gw: Gateway;
  before(async () => {
    [sim] = await sims({ protocol: 'openai', name: 'up', models: ['listed', 'aliased', 'ruled'] });
    gw = await gateway({
      // `open` lists no model: it is asked for whatever model the route names.
      providers: { up: provider(sim, ['listed']), open: provider(sim, []) },
      aliases: { fast: { targets: [{ target: 'open/aliased' }] } },
      rules: [{ name: 'to-ruled', cel_expression: 'headers["x-route"] == "ruled"', targets: [{ provider: 'open', model: 'ruled' }] }],
      observability: { metrics: { label_cap: 3 } },
    });
  });
  after(() => closeAll(gw, [sim]));

  it('counts models the caller made up as "other", and keeps every configured model', async () => {
    const chat = (model: string, headers: Record<string, string> = {}) =>
      post(gw, '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, headers);
    for (let i = 0; i < 3; i++) assert.equal((await chat(`up/made-up-${i}`)).status, 404);
    for (let i = 0; i < 3; i++) assert.equal((await chat(`open/made-up-${i}`)).status, 404);
    assert.equal((await chat('listed')).status, 200);
    assert.equal((await chat('fast')).status, 200);
    assert.equal((await chat('listed', { 'x-route': 'ruled' })).status, 200);
    const text = await gw.observability.metrics.render();
    assert.ok(!text.includes('made-up'), 'no made-up model is a label value');
    assert.equal(sample(text, 'switchyard_requests_total', { model: 'other' }), 6);
    for (const model of ['listed', 'aliased', 'ruled']) {
      assert.equal(sample(text, 'switchyard_requests_total', { model }), 1, model);
      assert.ok((sample(text, 'switchyard_tokens_total', { model }) ?? 0) > 0, `${model} tokens`);
    }
  });
});
