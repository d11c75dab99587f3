import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../src/errors.js';
import type { Governance } from '../../src/governance/governance.js';
import { createGovernanceStage } from '../../src/governance/stage.js';
import type { Stage } from '../../src/pipeline/stage.js';
import type { Caller, RequestContext } from '../../src/pipeline/context.js';
import type { JsonReply, StreamPart, StreamReply } from '../../src/providers/types.js';
import type { Redis } from '../../src/store/redis-script.js';
import { cleanup, makeCtx, makeGov, redisClient, uniquePrefix } from './helpers.js';
import { redisSkip, suite } from '../helpers/requires.js';

// 10 USD per million tokens both ways: one token costs exactly $0.00001.
const pricing = { 'test/m': { input: 10, output: 10 }, 'test/cheap': { input: 1, output: 1 } };
const T0 = Date.UTC(2025, 0, 15, 12, 0, 30); // 30 s into a minute

const json = (prompt: number, completion: number): JsonReply => ({
  kind: 'json', status: 200, body: { choices: [] }, usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
});

async function* partsOf(parts: StreamPart[]): AsyncGenerator<StreamPart> {
  for (const p of parts) yield p;
}
const stream = (parts: StreamPart[]): StreamReply => ({ kind: 'stream', status: 200, parts: partsOf(parts) });

async function refusal(p: Promise<unknown> | unknown): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    return err;
  }
  assert.fail('expected a refusal');
}

for (const backend of ['memory', 'redis'] as const) {
  suite(`enforcement (${backend})`, backend === 'redis' ? redisSkip : false, () => {
    let client: Redis | undefined;
    const prefix = uniquePrefix();
    let now = T0;
    let gov: Governance;
    let stage: Stage;
    const caller = async (name: string): Promise<Caller> => gov.authenticate(`Bearer sk-sy-${name}-secret-000000000000000`);

    before(async () => {
      if (backend === 'redis') client = await redisClient();
      gov = await makeGov({
        pricing,
        budget_exceeded_status: 402,
        customers: [{ id: 'acme', name: 'Acme', budget: { limit_usd: 100, period: 'monthly' } }],
        teams: [{ id: 'res', name: 'Research', customer_id: 'acme', allowed_models: ['*/m', 'test/*', 'fast'], rate_limits: { requests_per_minute: 1000 } }],
        keys: [
          { id: 'cent', name: 'cent', key: 'sk-sy-cent-secret-000000000000000', team_id: 'res', budget: { limit_usd: 1, period: 'total' } },
          { id: 'rpm', name: 'rpm', key: 'sk-sy-rpm-secret-000000000000000', rate_limits: { requests_per_minute: 3 } },
          { id: 'tpm', name: 'tpm', key: 'sk-sy-tpm-secret-000000000000000', rate_limits: { tokens_per_minute: 500 } },
          { id: 'arith', name: 'arith', key: 'sk-sy-arith-secret-000000000000000', team_id: 'res', budget: { limit_usd: 10, period: 'daily' }, rate_limits: { tokens_per_hour: 100000 } },
          { id: 'allow', name: 'allow', key: 'sk-sy-allow-secret-000000000000000', team_id: 'res', allowed_models: ['test/*', 'other/*'] },
          { id: 'cap', name: 'cap', key: 'sk-sy-cap-secret-000000000000000', team_id: 'res', budget: { limit_usd: 1, period: 'weekly' }, rate_limits: { requests_per_minute: 10 } },
        ],
      }, { redis: client, prefix, now: () => now });
      stage = createGovernanceStage({ governance: gov });
    });

    after(async () => {
      await gov.close();
      if (client !== undefined) {
        await cleanup(client, prefix);
        client.destroy();
      }
    });

    const run = async (ctx: RequestContext, reply: JsonReply): Promise<void> => {
      await stage.before!(ctx);
      stage.after!(ctx, reply);
      await gov.enforcement.drain();
    };

    test('a budget is enforced to the cent over many settlements', async () => {
      const c = await caller('cent');
      let admitted = 0;
      let refused: GatewayError | undefined;
      for (let i = 0; i < 150 && refused === undefined; i++) {
        // Estimate (short prompt + max_tokens 100) stays below the actual 1000 tokens = $0.01 per request.
        const ctx = makeCtx(c, { model: 'm', route: { chain: [{ provider: 'test', model: 'm' }], rule: 'r' } });
        try {
          await run(ctx, json(400, 600));
          admitted++;
        } catch (err) {
          refused = err as GatewayError;
        }
      }
      assert.equal(admitted, 100);
      assert.ok(refused);
      assert.equal(refused.status, 402);
      assert.equal(refused.code, 'budget_exceeded');
      assert.match(refused.message, /virtual key 'cent'.*total limit \$1\.00, used \$1\.00/);
      const usage = await gov.usage('keys', 'cent');
      assert.equal(usage.budget?.used_usd, 1);
      assert.equal(usage.budget?.remaining_usd, 0);
      assert.equal(usage.budget?.resets_at, null);
      assert.equal(usage.capacity.budget_used, 100);
      // The customer was charged the same amount, and the refused request nothing.
      assert.equal((await gov.usage('customers', 'acme')).budget?.used_usd, 1);
    });

    test('reservation, settlement and release arithmetic', async () => {
      const c = await caller('arith');
      const body = { messages: [{ role: 'user', content: 'hello' }], max_tokens: 200 };
      const ctx = makeCtx(c, { model: 'm', body, route: { chain: [{ provider: 'test', model: 'm' }], rule: 'r' } });
      await stage.before!(ctx);
      // prompt estimate: 3 priming + 3 per message + 1 word = 7; reserved 7 + 200 tokens at $0.00001.
      let u = await gov.usage('keys', 'arith');
      assert.equal(u.budget?.used_usd, 0.00207);
      assert.deepEqual(u.rate_limits, [{ metric: 'tokens', per: 'hour', limit: 100000, used: 207, remaining: 99793 }]);
      // Answered by a fallback after a failed attempt: charged at the fallback's price.
      ctx.attempts.push({ provider: 'test', model: 'm', keyId: 'a', status: 500, latencyMs: 1 });
      ctx.attempts.push({ provider: 'test', model: 'cheap', keyId: 'b', status: 200, latencyMs: 1 });
      ctx.usage = { prompt_tokens: 10, completion_tokens: 90, total_tokens: 100 };
      stage.after!(ctx, { kind: 'json', status: 200, body: {} });
      await gov.enforcement.drain();
      u = await gov.usage('keys', 'arith');
      assert.equal(u.budget?.used_usd, 0.0001); // 100 tokens at $1/M
      assert.equal(u.rate_limits[0].used, 100);
      assert.equal(ctx.facts.governance && (ctx.facts.governance as { cost_usd: number }).cost_usd, 0.0001);

      const failed = makeCtx(c, { model: 'm', body, route: { chain: [{ provider: 'test', model: 'm' }], rule: 'r' } });
      await stage.before!(failed);
      stage.failed!(failed, new GatewayError({ status: 502, message: 'x', type: 'upstream_error', failure: 'upstream' }));
      await gov.enforcement.drain();
      u = await gov.usage('keys', 'arith');
      assert.equal(u.budget?.used_usd, 0.0001, 'a failed request is not billed');
      assert.equal(u.rate_limits[0].used, 100);
    });

    test('request rate limit: refusal with retry-after, then admitted once the window slides', async () => {
      now = T0;
      const c = await caller('rpm');
      for (let i = 0; i < 3; i++) await run(makeCtx(c), json(1, 1));
      const err = await refusal(stage.before!(makeCtx(c)));
      assert.equal(err.status, 429);
      assert.equal(err.code, 'rate_limit_exceeded');
      // All 3 were made at T0: they leave the window a whole window later, never more.
      assert.equal(err.headers['retry-after'], '60');
      assert.match(err.message, /virtual key 'rpm': 3 requests per minute/);
      now = T0 + 59_000;
      await refusal(stage.before!(makeCtx(c)));
      now = T0 + 60_000;
      await run(makeCtx(c), json(1, 1));
      now = T0;
    });

    test('retry-after never exceeds the window, and a slice leaving the window frees its share', async () => {
      now = T0 + 7_200_000;
      const c = await caller('rpm');
      await run(makeCtx(c), json(1, 1));
      now += 25_000;
      for (let i = 0; i < 2; i++) await run(makeCtx(c), json(1, 1));
      const err = await refusal(stage.before!(makeCtx(c)));
      const wait = Number(err.headers['retry-after']);
      assert.ok(wait >= 1 && wait <= 60, `retry-after ${wait}`);
      // The first request's slice leaves the window first: one request fits again then, and not a second earlier.
      now += wait * 1000 - 1000;
      await refusal(stage.before!(makeCtx(c)));
      now += 1000;
      await run(makeCtx(c), json(1, 1));
      now = T0;
    });

    test('token rate limit counts the reservation; a request larger than the limit is refused without retry-after', async () => {
      now = T0 + 3_600_000;
      const c = await caller('tpm');
      const tooBig = await refusal(stage.before!(makeCtx(c, { body: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 1000 } })));
      assert.equal(tooBig.status, 429);
      assert.equal(tooBig.headers['retry-after'], undefined);
      assert.match(tooBig.message, /Request too large/);
      const body = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 300 };
      await stage.before!(makeCtx(c, { body })); // reserved 307, never settled yet
      const err = await refusal(stage.before!(makeCtx(c, { body })));
      assert.equal(err.status, 429);
      assert.ok(Number(err.headers['retry-after']) > 0);
      now = T0;
    });

    test('model allow-lists at every level; disallowed fallbacks are dropped', async () => {
      const c = await caller('allow');
      const route = (provider: string, model: string, ...rest: Array<[string, string]>) =>
        ({ chain: [{ provider, model }, ...rest.map(([p, m]) => ({ provider: p, model: m }))], rule: 'r' });
      const byKey = await refusal(stage.before!(makeCtx(c, { model: 'm', route: route('zzz', 'm') })));
      assert.equal(byKey.status, 403);
      assert.equal(byKey.code, 'model_not_allowed');
      assert.match(byKey.message, /virtual key 'allow'/);
      const byTeam = await refusal(stage.before!(makeCtx(c, { model: 'x', route: route('other', 'x') })));
      assert.match(byTeam.message, /team 'Research'/);
      await run(makeCtx(c, { model: 'm', route: route('other', 'm') }), json(1, 1));
      // An alias the team allows, on a key without its own list.
      const open = await caller('cent');
      await assert.rejects(Promise.resolve(stage.before!(makeCtx(open, { model: 'slow', route: route('zzz', 'y') }))), /not allowed for team 'Research'/);
      const fallbacks = makeCtx(c, { model: 'm', route: route('test', 'm', ['zzz', 'q'], ['other', 'm']) });
      await stage.before!(fallbacks);
      assert.deepEqual(fallbacks.route!.chain, [{ provider: 'test', model: 'm' }, { provider: 'other', model: 'm' }]);
      assert.match(fallbacks.warnings[0], /zzz\/q/);
      stage.failed!(fallbacks, new GatewayError({ status: 500, message: 'x', type: 't', failure: 'gateway' }));
      const aliased = makeCtx(await caller('arith'), { model: 'fast', route: route('zzz', 'y') });
      await stage.before!(aliased);
      stage.failed!(aliased, new GatewayError({ status: 500, message: 'x', type: 't', failure: 'gateway' }));
      await gov.enforcement.drain();
    });

    test('streams settle from the usage chunk, or from the streamed text when there is none', async () => {
      const c = await caller('arith');
      const before = (await gov.usage('keys', 'arith')).rate_limits[0].used;
      const withUsage = makeCtx(c, { model: 'm', stream: true, route: { chain: [{ provider: 'test', model: 'm' }], rule: 'r' } });
      await stage.before!(withUsage);
      const out = stage.after!(withUsage, stream([
        { type: 'text-delta', choice: 0, text: 'Hello world' },
        { type: 'usage', usage: { prompt_tokens: 20, completion_tokens: 30, total_tokens: 50 } },
        { type: 'done' },
      ])) as StreamReply;
      let parts = 0;
      for await (const _ of out.parts) parts++;
      assert.equal(parts, 3, 'parts pass through');
      await gov.enforcement.drain();
      assert.equal((await gov.usage('keys', 'arith')).rate_limits[0].used, before + 50);

      const noUsage = makeCtx(c, { model: 'm', stream: true, body: { messages: [{ role: 'user', content: 'hello' }], max_tokens: 500 }, route: { chain: [{ provider: 'test', model: 'm' }], rule: 'r' } });
      await stage.before!(noUsage);
      const out2 = stage.after!(noUsage, stream([
        { type: 'text-delta', choice: 0, text: 'Hel' },
        { type: 'text-delta', choice: 0, text: 'lo there' },
        { type: 'error', failure: { message: 'cut', type: 'upstream_error', code: null } },
      ])) as StreamReply;
      for await (const _ of out2.parts) { /* drain */ }
      await gov.enforcement.drain();
      // 7 estimated prompt tokens + 'Hello there' = 2 tokens, instead of the 507 reserved.
      assert.equal((await gov.usage('keys', 'arith')).rate_limits[0].used, before + 50 + 9);
    });

    test('capacity is the highest percentage across key, team and customer', async () => {
      now = T0 + 7_200_000;
      const c = await caller('cap');
      for (let i = 0; i < 4; i++) {
        // 8500 tokens at $0.00001 = $0.085 each.
        await run(makeCtx(c, { model: 'm', route: { chain: [{ provider: 'test', model: 'm' }], rule: 'r' } }), json(8000, 500));
      }
      const cap = await gov.capacity(c);
      assert.equal(cap.budget_used, 34); // $0.34 of the key's $1 (the customer's $100 is far less used)
      assert.equal(cap.requests_used, 40); // 4 of the key's 10 per minute beats the team's 1000
      assert.equal(cap.tokens_used, 0);
      now = T0;
    });
  });
}
