/**
 * A request that ends in an error after an upstream did paid work is charged for that work, not released: a client that
 * walks away while the upstream has its request, a cascade whose later tier fails after an earlier one answered. Otherwise
 * a tenant could spend without end against a budget that never moves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { client } from '../helpers/gateway.js';
import { keySpend, twoTiers, type TwoTiers } from './helpers.js';

const ADMIN = 'admin-key-for-tests-0123456789';
const KEY = 'sk-sy-paid-failures-000000001';
const PRICE = { input: 1000, output: 1000 }; // $0.001 a token

describe('requests that fail after paid upstream work', () => {
  let t: TwoTiers;

  before(async () => {
    t = await twoTiers({
      server: { admin_key: ADMIN },
      governance: {
        pricing: { 'cheap/small': PRICE, 'strong/big': PRICE },
        keys: [{ id: 'kp', name: 'P', key: KEY, budget: { limit_usd: 10, period: 'total' } }],
      },
      rules: [{
        name: 'escalate', cel_expression: 'model == "tiered"',
        cascade: [{ provider: 'cheap', model: 'small', checks: { min_length: 50 } }, { provider: 'strong', model: 'big' }],
      }],
    });
  });
  after(() => t.close());

  const spent = (): Promise<number> => keySpend(t.gw, ADMIN, 'kp');
  /** The spend once it stops changing (settlements are not awaited by the reply). */
  const settled = async (from: number): Promise<number> => {
    for (let i = 0; i < 50 && (await spent()) === from; i++) await new Promise((r) => setTimeout(r, 20));
    return spent();
  };

  it('a client that aborts while the upstream has its request pays the prompt', async () => {
    const before = await spent();
    t.cheap.script('abort-1', { delayMs: 1500 });
    const ai = client(t.gw, KEY);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(ai.chat.completions.create(
      { model: 'cheap/small', max_tokens: 100, messages: [{ role: 'user', content: 'a long question the upstream reads' }] },
      { signal: controller.signal, headers: { 'x-request-id': 'abort-1' } },
    ), (e: unknown) => e instanceof OpenAI.APIUserAbortError);
    assert.equal(t.cheap.seen('abort-1'), 1, 'the upstream had the request');
    const charged = (await settled(before)) - before;
    // The prompt estimate (a few tokens at $0.001), never the whole reservation (100 completion tokens more), never nothing.
    assert.ok(charged > 0.005 && charged < 0.05, `charged ${charged}`);
  });

  it('a cascade whose last tier fails pays for the tier that answered', async () => {
    const before = await spent();
    t.strong.script('cascade-1', { status: 400, chunks: [JSON.stringify({ error: { message: 'bad request', type: 'invalid_request_error' } })] });
    await assert.rejects(client(t.gw, KEY).chat.completions.create(
      { model: 'tiered', max_tokens: 100, messages: [{ role: 'user', content: 'hello' }] },
      { headers: { 'x-request-id': 'cascade-1' } },
    ), (e: unknown) => e instanceof OpenAI.BadRequestError);
    assert.equal(t.cheap.seen('cascade-1'), 1);
    assert.equal(t.strong.seen('cascade-1'), 1);
    // The cheap tier's reply reported 3 + 1 tokens: $0.004.
    assert.equal(Math.round(((await settled(before)) - before) * 1e6), 4000);
  });

  it('a request that failed upstream with nothing paid is released', async () => {
    const before = await spent();
    t.cheap.script('fail-1', { status: 400, chunks: [JSON.stringify({ error: { message: 'bad request', type: 'invalid_request_error' } })] });
    await assert.rejects(client(t.gw, KEY).chat.completions.create(
      { model: 'cheap/small', max_tokens: 100, messages: [{ role: 'user', content: 'hello' }] },
      { headers: { 'x-request-id': 'fail-1' } },
    ), (e: unknown) => e instanceof OpenAI.BadRequestError);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await spent(), before);
  });
});
