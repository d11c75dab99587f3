import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../src/errors.js';
import type { Governance } from '../../src/governance/governance.js';
import { createGovernanceStage } from '../../src/governance/stage.js';
import type { Redis } from '../../src/store/redis-script.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { cleanup, makeCtx, makeGov, redisClient, uniquePrefix } from './helpers.js';
import { processBudgetConfig, sharedBudgetConfig } from './fixtures/shared-budget.js';
import { redisSkip } from '../helpers/requires.js';

const prefix = uniquePrefix();
let admin: Redis;
before(async () => { if (!redisSkip) admin = await redisClient(); });
after(async () => { if (admin) { await cleanup(admin, prefix); admin.destroy(); } });

const shared = sharedBudgetConfig;

test('two instances on one Redis share one budget without overspending', { skip: redisSkip }, async () => {
  const [c1, c2] = [await redisClient(), await redisClient()];
  const p = `${prefix}budget:`;
  const g1 = await makeGov(shared, { redis: c1, prefix: p });
  const g2 = await makeGov(shared, { redis: c2, prefix: p });
  try {
    const stages = [createGovernanceStage({ governance: g1 }), createGovernanceStage({ governance: g2 })];
    const caller = await g1.authenticate('Bearer sk-sy-shared-secret-0000000000000');
    // Each request reserves 3 + 3 + 1 + 996 = 1003 tokens = $0.01003; 99 fit in $1.
    const body = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 996 };
    // Eight workers per instance, each sending one request after another until refused.
    const admitted: Array<{ ctx: ReturnType<typeof makeCtx>; instance: number }> = [];
    const refusals: GatewayError[] = [];
    const worker = async (instance: number): Promise<void> => {
      for (;;) {
        const ctx = makeCtx(caller, { model: 'm', body, route: { chain: [{ provider: 'test', model: 'm' }], rule: 'r' } });
        try {
          await stages[instance].before!(ctx);
          admitted.push({ ctx, instance });
        } catch (err) {
          refusals.push(err as GatewayError);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, i) => worker(i % 2)));
    assert.equal(refusals.length, 16);
    for (const r of refusals) assert.equal(r.code, 'budget_exceeded');
    assert.equal(admitted.length, 99);
    const first = admitted.filter((a) => a.instance === 0).length;
    assert.ok(first >= 8 && first <= 91, `both instances admitted requests (${first} and ${99 - first})`);
    // Settle at exactly the reserved amount, each on the instance that admitted it.
    admitted.forEach(({ ctx, instance }) => {
      const tokens = (ctx.facts.governance as { reserved_tokens: number }).reserved_tokens;
      ctx.usage = { prompt_tokens: 7, completion_tokens: tokens - 7, total_tokens: tokens };
      stages[instance].after!(ctx, { kind: 'json', status: 200, body: {} });
    });
    await Promise.all([g1.enforcement.drain(), g2.enforcement.drain()]);
    const used = (await g2.usage('customers', 'acme')).budget!;
    assert.ok(used.used_usd <= 1, `spent ${used.used_usd}`);
    assert.equal(used.used_usd, 0.99297);
  } finally {
    await g1.close();
    await g2.close();
    c1.destroy();
    c2.destroy();
  }
});

test('two processes on one Redis share one budget without overspending', { skip: redisSkip }, async () => {
  const p = `${prefix}processes:`;
  const worker = fileURLToPath(new URL('./fixtures/budget-worker.ts', import.meta.url));
  const children = [0, 1].map(() => spawn(process.execPath, ['--import', 'tsx', worker, p], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const outputs = children.map((c) => {
    let text = '';
    c.stdout!.setEncoding('utf8').on('data', (d: string) => { text += d; });
    return { child: c, text: () => text };
  });
  try {
    // Start both only once both are connected, so their requests really overlap.
    await Promise.all(outputs.map(async (o) => { while (!o.text().includes('ready')) await once(o.child.stdout!, 'data'); }));
    for (const c of children) c.stdin!.end('go\n');
    const codes = await Promise.all(children.map(async (c) => (c.exitCode ?? (await once(c, 'exit'))[0]) as number));
    assert.deepEqual(codes, [0, 0]);
    const counts = outputs.map((o) => Number(/admitted (\d+)/.exec(o.text())?.[1]));
    assert.equal(counts[0] + counts[1], 498, `admitted ${counts.join(' + ')}`);
    assert.ok(counts[0] > 0 && counts[1] > 0, `both processes admitted requests (${counts.join(', ')})`);
    const checker = await makeGov(processBudgetConfig, { redis: admin, prefix: p });
    try {
      assert.equal((await checker.usage('customers', 'acme')).budget!.used_usd, 4.99494);
    } finally {
      await checker.close();
    }
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
  }
});

test('entities created on one instance are seen by another through change notifications', { skip: redisSkip }, async () => {
  const [c1, c2] = [await redisClient(), await redisClient()];
  const p = `${prefix}entities:`;
  const g1 = await makeGov({}, { redis: c1, prefix: p });
  const g2 = await makeGov({}, { redis: c2, prefix: p });
  try {
    const notified = new Promise<void>((resolve) => g2.docs.onChange((c) => { if (c === 'keys') resolve(); }));
    await g1.admin.createCustomer({ id: 'globex', name: 'Globex', budget: { limit_usd: 5 } });
    const key = await g1.admin.createKey({ name: 'remote', customer_id: 'globex' });
    await notified;
    await g2.reload();
    assert.equal((await g2.authenticate(`Bearer ${key.key}`)).customerName, 'Globex');
    const revoked = new Promise<void>((resolve) => g2.docs.onChange((c, id) => { if (c === 'keys' && id === key.id) resolve(); }));
    await g1.admin.update('keys', key.id, { revoked: true });
    await revoked;
    await g2.reload();
    await assert.rejects(g2.authenticate(`Bearer ${key.key}`), /revoked/);
  } finally {
    await g1.close();
    await g2.close();
    c1.destroy();
    c2.destroy();
  }
});

for (const policy of ['fail_open', 'fail_closed'] as const) {
  test(`Redis unavailable: ${policy}`, { skip: redisSkip }, async () => {
    const client = await redisClient();
    const p = `${prefix}${policy}:`;
    const gov = await makeGov({ ...shared, on_store_error: policy }, { redis: client, prefix: p });
    try {
      const stage = createGovernanceStage({ governance: gov });
      const caller = await gov.authenticate('Bearer sk-sy-shared-secret-0000000000000');
      const ctx = () => makeCtx(caller, { model: 'm', route: { chain: [{ provider: 'test', model: 'm' }], rule: 'r' } });
      await stage.before!(ctx());
      assert.equal(gov.health().counters.state, 'healthy');
      client.destroy(); // this instance's connection is gone; the server keeps running
      if (policy === 'fail_open') {
        const c = ctx();
        await stage.before!(c);
        stage.after!(c, { kind: 'json', status: 200, body: {}, usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
        await gov.enforcement.drain();
        const h = gov.health();
        assert.equal(h.ok, true);
        assert.equal(h.counters.state, 'degraded');
        assert.ok(h.counters.last_error);
        // Local counters still enforce: $1 at ~$0.0011 per reservation (107 tokens incl. 100 max_tokens) runs out.
        let refused: GatewayError | undefined;
        for (let i = 0; i < 2000 && refused === undefined; i++) {
          try { await stage.before!(ctx()); } catch (err) { refused = err as GatewayError; }
        }
        assert.equal(refused?.code, 'budget_exceeded');
      } else {
        const err = await Promise.resolve(stage.before!(ctx())).then(() => undefined, (e: unknown) => e as GatewayError);
        assert.equal(err?.status, 503);
        assert.equal(err?.code, 'governance_unavailable');
        const h = gov.health();
        assert.equal(h.ok, false);
        assert.equal(h.counters.state, 'refusing');
      }
      // Authentication never needs Redis.
      assert.equal((await gov.authenticate('Bearer sk-sy-shared-secret-0000000000000')).virtualKeyId, 'k');
    } finally {
      await gov.close();
    }
  });
}
