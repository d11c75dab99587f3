/**
 * Many concurrent requests of one key whose route may end on a dearer model than its first target — a fallback, a cascade's
 * later tier — stay within the key's budget: each reserves what it may cost at most, not its first target's price.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { client } from '../helpers/gateway.js';
import { keySpend, twoTiers, type TwoTiers } from './helpers.js';

const ADMIN = 'admin-key-for-tests-0123456789';
const KEYS = { fallback: 'sk-sy-worst-case-fallback-0001', cascade: 'sk-sy-worst-case-cascade-0002', tokens: 'sk-sy-worst-case-tokens-00003' };
const TOKENS_PER_MINUTE = 100;
const BUDGET = 0.05;

describe('concurrent requests that end on a dearer model', () => {
  let t: TwoTiers;

  before(async () => {
    t = await twoTiers({
      server: { admin_key: ADMIN },
      governance: {
        // The strong model costs a thousand times more: $0.001 a token.
        pricing: { 'cheap/small': { input: 1, output: 1 }, 'strong/big': { input: 1000, output: 1000 } },
        keys: [
          { id: 'kf', name: 'F', key: KEYS.fallback, budget: { limit_usd: BUDGET, period: 'total' } },
          { id: 'kc', name: 'C', key: KEYS.cascade, budget: { limit_usd: BUDGET, period: 'total' } },
          { id: 'kt', name: 'T', key: KEYS.tokens, rate_limits: { tokens_per_minute: TOKENS_PER_MINUTE } },
        ],
      },
      rules: [
        { name: 'with-fallback', cel_expression: 'model == "svc"', targets: [{ provider: 'cheap', model: 'small' }], fallbacks: ['strong/big'] },
        { name: 'escalate', cel_expression: 'model == "tiered"', cascade: [{ provider: 'cheap', model: 'small', checks: { min_length: 50 } }, { provider: 'strong', model: 'big' }] },
      ],
    });
  });
  after(() => t.close());

  const spent = (id: string): Promise<number> => keySpend(t.gw, ADMIN, id);

  /** 20 requests at once; returns how many were answered and the key's spend once every one settled. */
  async function burst(key: string, id: string, model: string, requestId: string, refusal = 402): Promise<{ answered: number; spend: number }> {
    const ai = client(t.gw, key);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => ai.chat.completions.create(
      { model, max_tokens: 10, messages: [{ role: 'user', content: 'hello' }] }, { headers: { 'x-request-id': requestId } },
    )));
    for (const r of results) {
      if (r.status === 'rejected') assert.ok(r.reason instanceof OpenAI.APIError && r.reason.status === refusal, String(r.reason));
    }
    await new Promise((r) => setTimeout(r, 200));
    return { answered: results.filter((r) => r.status === 'fulfilled').length, spend: await spent(id) };
  }

  it('a fallback to a dearer model', async () => {
    t.cheap.script('fb', { status: 503, delayMs: 300, chunks: [JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } })] });
    const { answered, spend } = await burst(KEYS.fallback, 'kf', 'svc', 'fb');
    assert.ok(answered > 0, 'some were answered');
    assert.ok(spend <= BUDGET + 1e-9, `spent $${spend} of a $${BUDGET} budget (${answered} answered)`);
  });

  it("a cascade's dearer tier", async () => {
    t.cheap.script('cc', { delayMs: 300 });
    const { answered, spend } = await burst(KEYS.cascade, 'kc', 'tiered', 'cc');
    assert.ok(answered > 0, 'some were answered');
    assert.ok(spend <= BUDGET + 1e-9, `spent $${spend} of a $${BUDGET} budget (${answered} answered)`);
  });

  it("a cascade's tiers against a token rate limit", async () => {
    // Each call uses the request's whole estimate (7 prompt tokens, max_tokens 10); a cascade makes two.
    const reply = (model: string) => JSON.stringify({
      id: 'c', object: 'chat.completion', created: 1, model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 10, total_tokens: 17 },
    });
    t.cheap.script('tt', { delayMs: 300, chunks: [reply('small')] });
    t.strong.script('tt', { chunks: [reply('big')] });
    const { answered } = await burst(KEYS.tokens, 'kt', 'tiered', 'tt', 429);
    assert.ok(answered > 0, 'some were answered');
    const r = await fetch(`${t.gw.url}/admin/keys/kt/usage`, { headers: { 'x-admin-key': ADMIN } });
    const used = ((await r.json()) as { rate_limits: Array<{ metric: string; used: number }> }).rate_limits.find((l) => l.metric === 'tokens')!.used;
    assert.ok(used <= TOKENS_PER_MINUTE, `used ${used} tokens of ${TOKENS_PER_MINUTE} a minute (${answered} answered)`);
  });
});
