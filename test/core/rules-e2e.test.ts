import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import { startGateway, type Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, config, gateway, provider, quietLogger, sims } from '../helpers/gateway.js';
import { redisSkip, TEST_REDIS_URL } from '../helpers/requires.js';

const ADMIN = 'admin-key-for-tests-0123456789';

async function admin(gw: Gateway, method: string, path: string, body?: unknown) {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

const who = (r: OpenAI.Chat.Completions.ChatCompletion): string => /^\[([\w-]+)\]/.exec(r.choices[0].message.content ?? '')![1];

describe('routing rules end to end', () => {
  let premium: Simulator;
  let standard: Simulator;
  let cheap: Simulator;
  let gw: Gateway;
  let ai: OpenAI;

  const base = () => ({
    server: { admin_key: ADMIN },
    providers: {
      premium: provider(premium, ['big', 'x']),
      standard: provider(standard, ['mid', 'x']),
      // m0…m12: the chain_rule hops below (a rule may only target a model its provider lists)
      cheap: provider(cheap, ['small', 'embed', 'x', ...Array.from({ length: 13 }, (_, i) => `m${i}`)]),
    },
    aliases: { chat: 'standard/mid' },
    rules: [
      {
        name: 'premium-tier-split', priority: 10,
        cel_expression: '"x-tier" in headers && headers["x-tier"] == "premium"',
        targets: [{ provider: 'premium', model: 'big', weight: 0.7 }, { provider: 'standard', model: 'mid', weight: 0.3 }],
      },
      { name: 'cheap-embeddings', priority: 20, cel_expression: 'request_type == "embedding"', targets: [{ provider: 'cheap', model: 'embed' }] },
      {
        name: 'long-prompts-to-premium', priority: 30, cel_expression: 'prompt_chars > 200 && health["premium"].available_keys > 0',
        targets: [{ provider: 'premium', model: 'big' }], fallbacks: ['cheap/small'],
      },
    ],
  });

  before(async () => {
    [premium, standard, cheap] = await sims({ protocol: 'openai', name: 'premium' }, { protocol: 'openai', name: 'standard' }, { protocol: 'openai', name: 'cheap' });
    gw = await gateway(base());
    ai = client(gw);
  });
  after(() => closeAll(gw, [premium, standard, cheap]));

  it('no match routes the requested model as before', async () => {
    const { data, response } = await ai.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    assert.equal(who(data), 'standard');
    assert.equal(response.headers.get('x-switchyard-rule'), 'default');
  });

  it('a weighted split converges to its weights (0.7 / 0.3)', async () => {
    const n = 400;
    const tiered = client(gw, 'sk-test', { defaultHeaders: { 'x-tier': 'premium' } });
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const { data, response } = await tiered.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: `q${i}` }] }).withResponse();
      counts[who(data)] = (counts[who(data)] ?? 0) + 1;
      assert.equal(response.headers.get('x-switchyard-rule'), 'premium-tier-split');
    }
    const sigma = Math.sqrt(n * 0.7 * 0.3);
    assert.ok(Math.abs((counts.premium ?? 0) - 0.7 * n) < 5 * sigma, JSON.stringify(counts));
    assert.equal((counts.premium ?? 0) + (counts.standard ?? 0), n);
  });

  it('routes embeddings to the cheap provider by request type', async () => {
    const { response } = await ai.embeddings.create({ model: 'chat', input: 'vectors please' }).withResponse();
    assert.equal(response.headers.get('x-switchyard-provider'), 'cheap');
    assert.equal(response.headers.get('x-switchyard-rule'), 'cheap-embeddings');
  });

  it('rules see live health; a rule\'s fallbacks replace the default chain', async () => {
    premium.inject({ status: 500 });
    const long = 'x'.repeat(300);
    const { data, response } = await ai.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: long }] }).withResponse();
    assert.equal(who(data), 'cheap');
    assert.equal(response.headers.get('x-switchyard-rule'), 'long-prompts-to-premium');
  });

  it('explain shows every variable, every rule in order with its result, the target and the chain', async () => {
    const { status, json } = await admin(gw, 'POST', '/admin/route/explain', {
      request: { model: 'chat', messages: [{ role: 'user', content: 'y'.repeat(250) }] },
      headers: { 'X-Tier': 'basic' },
    });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.variables.prompt_chars, 250);
    assert.equal(json.variables.headers['x-tier'], 'basic');
    assert.deepEqual(json.steps.map((s: any) => [s.rule, s.result]), [
      ['premium-tier-split', 'no_match'], ['cheap-embeddings', 'no_match'], ['long-prompts-to-premium', 'match'],
    ]);
    assert.equal(json.route.rule, 'long-prompts-to-premium');
    assert.deepEqual(json.route.chain, [{ provider: 'premium', model: 'big' }, { provider: 'cheap', model: 'small' }]);
    assert.equal(premium.requestCount() + standard.requestCount() >= 0, true);
  });

  it('rules change at runtime through the admin API; invalid changes are refused and change nothing', async () => {
    const bad = await admin(gw, 'POST', '/admin/rules', { name: 'broken', cel_expression: 'intent_score > "high"', targets: [{ provider: 'cheap', model: 'small' }] });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /broken/);
    const unknown = await admin(gw, 'POST', '/admin/rules', { name: 'ghost', cel_expression: 'true', targets: [{ provider: 'nowhere', model: 'x' }] });
    assert.equal(unknown.status, 400);

    const created = await admin(gw, 'POST', '/admin/rules', { name: 'all-to-cheap', priority: 1, cel_expression: 'model == "chat"', targets: [{ provider: 'cheap', model: 'small' }] });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(who(await ai.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'now' }] })), 'cheap');

    const off = await admin(gw, 'PATCH', '/admin/rules/all-to-cheap', { enabled: false });
    assert.equal(off.status, 200, JSON.stringify(off.json));
    assert.equal(who(await ai.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'now' }] })), 'standard');
    assert.equal((await admin(gw, 'DELETE', '/admin/rules/all-to-cheap')).status, 200);
  });

  it('chain_rule re-evaluates with the resolved target and stops at depth 10', async () => {
    // alias normalisation, then provider choice
    await admin(gw, 'POST', '/admin/rules', { name: 'normalise', priority: 2, chain_rule: true, cel_expression: 'model == "gpt-latest"', targets: [{ provider: 'standard', model: 'mid' }] });
    await admin(gw, 'POST', '/admin/rules', { name: 'mid-goes-premium', priority: 3, cel_expression: 'provider == "standard" && model == "mid"', targets: [{ provider: 'premium', model: 'big' }] });
    const { data, response } = await ai.chat.completions.create({ model: 'gpt-latest', messages: [{ role: 'user', content: 'chain' }] }).withResponse();
    assert.equal(who(data), 'premium');
    assert.equal(response.headers.get('x-switchyard-rule'), 'mid-goes-premium');
    for (const n of ['normalise', 'mid-goes-premium']) await admin(gw, 'DELETE', `/admin/rules/${n}`);

    for (let i = 0; i < 12; i++) {
      const r = await admin(gw, 'POST', '/admin/rules', { name: `hop-${i}`, priority: 200 + i, chain_rule: true, cel_expression: `model == "m${i}"`, targets: [{ provider: 'cheap', model: `m${i + 1}` }] });
      assert.equal(r.status, 201, JSON.stringify(r.json));
    }
    const ex = await admin(gw, 'POST', '/admin/route/explain', { request: { model: 'm0', messages: [{ role: 'user', content: 'hop' }] } });
    assert.equal(ex.json.decision.steps.length, 10);
    assert.equal(ex.json.decision.truncated, true);
    assert.deepEqual(ex.json.route.chain[0], { provider: 'cheap', model: 'm10' });
    for (let i = 0; i < 12; i++) await admin(gw, 'DELETE', `/admin/rules/hop-${i}`);
  });

  it('scope precedence: virtual key > team > customer > global', async () => {
    const mk = (name: string, scope: string, scope_id: string | undefined, target: string) =>
      admin(gw, 'POST', '/admin/rules', { name, scope, ...(scope_id ? { scope_id } : {}), priority: 0, cel_expression: 'model == "scoped"', targets: [{ provider: target, model: 'x' }] });
    await mk('g', 'global', undefined, 'cheap');
    await mk('c', 'customer', 'cust-1', 'standard');
    await mk('t', 'team', 'team-1', 'premium');
    await mk('v', 'virtual_key', 'vk-1', 'cheap');
    const pick = async (caller: Record<string, string>) =>
      (await admin(gw, 'POST', '/admin/route/explain', { caller, request: { model: 'scoped', messages: [{ role: 'user', content: 's' }] } })).json.route.rule;
    assert.equal(await pick({ virtual_key_id: 'vk-1', team_id: 'team-1', customer_id: 'cust-1' }), 'v');
    assert.equal(await pick({ virtual_key_id: 'vk-2', team_id: 'team-1', customer_id: 'cust-1' }), 't');
    assert.equal(await pick({ team_id: 'team-2', customer_id: 'cust-1' }), 'c');
    assert.equal(await pick({ customer_id: 'cust-9' }), 'g');
    for (const n of ['g', 'c', 't', 'v']) await admin(gw, 'DELETE', `/admin/rules/${n}`);
  });
});

describe('rules at load and across instances', () => {
  let up: Simulator;
  before(async () => { [up] = await sims({ protocol: 'openai', name: 'up' }); });
  after(() => closeAll(undefined, [up]));

  it('an invalid rule is rejected at start with the rule name and position', async () => {
    await assert.rejects(
      gateway({ providers: { up: provider(up, ['m']) }, rules: [{ name: 'typo', cel_expression: 'modle == "x"', targets: [{ provider: 'up', model: 'm' }] }] }),
      (err: Error) => /typo/.test(err.message) && /modle/.test(err.message),
    );
  });

  it('two instances on one Redis see each other\'s rule changes', { skip: redisSkip }, async () => {
    const prefix = `test:${randomUUID()}:`;
    const cfg = { server: { admin_key: ADMIN }, redis: { url: TEST_REDIS_URL, key_prefix: prefix }, providers: { up: provider(up, ['m', 'n']) } };
    const a = await startGateway({ config: config(cfg), logger: quietLogger, host: '127.0.0.1', port: 0 });
    const b = await startGateway({ config: config(cfg), logger: quietLogger, host: '127.0.0.1', port: 0 });
    try {
      const made = await admin(a, 'POST', '/admin/rules', { name: 'shared', cel_expression: 'model == "m"', targets: [{ provider: 'up', model: 'n' }] });
      assert.equal(made.status, 201);
      const deadline = Date.now() + 2000;
      let seen = '';
      while (Date.now() < deadline) {
        const res = await client(b).chat.completions.create({ model: 'up/m', messages: [{ role: 'user', content: 'x' }] }).withResponse();
        seen = res.response.headers.get('x-switchyard-rule') ?? '';
        if (seen === 'shared') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(seen, 'shared');
      assert.equal(up.requests.at(-1)!.body!.model, 'n');
    } finally {
      await a.close();
      await b.close();
      const { createClient } = await import('redis');
      const c = createClient({ url: TEST_REDIS_URL });
      await c.connect();
      const keys = await c.keys(`${prefix}*`);
      if (keys.length) await c.del(keys);
      await c.quit();
    }
  });
});
