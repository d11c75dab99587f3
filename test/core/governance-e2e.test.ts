import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { createClient } from 'redis';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, provider, sims } from '../helpers/gateway.js';
import { cliArgs, spawnGateway } from '../helpers/gateway-process.js';
import { redisProxy } from '../helpers/redis-proxy.js';
import { redisSkip, suite, TEST_REDIS_URL } from '../helpers/requires.js';

const ADMIN = 'admin-key-for-tests-0123456789';
const KEYS = { a: 'sk-sy-team-a-0000000000000001', b: 'sk-sy-team-b-0000000000000002', capped: 'sk-sy-capped-00000000000003', rated: 'sk-sy-rated-000000000000004', narrow: 'sk-sy-narrow-00000000000005', seed: 'sk-sy-seed-0000000000000006' };
const PRICE = { input: 1000, output: 1000 }; // USD per million tokens: $0.001 a token
const who = (r: OpenAI.Chat.Completions.ChatCompletion): string => /^\[([\w-]+)\]/.exec(r.choices[0].message.content ?? '')![1];

async function usage(gw: Gateway, id: string): Promise<any> {
  const res = await fetch(`${gw.url}/admin/keys/${id}/usage`, { headers: { 'x-admin-key': ADMIN } });
  return res.json();
}

describe('governance through the openai client', () => {
  let premium: Simulator;
  let cheap: Simulator;
  let stable: Simulator;
  let canary: Simulator;
  let gw: Gateway;

  before(async () => {
    [premium, cheap, stable, canary] = await sims(
      { protocol: 'openai', name: 'premium' }, { protocol: 'openai', name: 'cheap' },
      { protocol: 'openai', name: 'stable' }, { protocol: 'openai', name: 'canary' },
    );
    gw = await gateway({
      server: { admin_key: ADMIN },
      semantic: { reference_prompts: { watch: false } },
      cache: { enabled: true, semantic: false },
      providers: { premium: provider(premium, ['big']), cheap: provider(cheap, ['small']), stable: provider(stable, ['v1']), canary: provider(canary, ['v2']) },
      governance: {
        pricing: { 'premium/big': PRICE, 'cheap/small': PRICE, 'stable/v1': { input: 0, output: 0 }, 'canary/v2': { input: 0, output: 0 } },
        customers: [{ id: 'acme', name: 'Acme' }],
        teams: [{ id: 'team-a', name: 'A', customer_id: 'acme' }, { id: 'team-b', name: 'B', customer_id: 'acme' }],
        keys: [
          { id: 'ka', name: 'A', key: KEYS.a, team_id: 'team-a' },
          { id: 'kb', name: 'B', key: KEYS.b, team_id: 'team-b' },
          { id: 'capped', name: 'Capped', key: KEYS.capped, budget: { limit_usd: 0.1, period: 'total' } },
          { id: 'rated', name: 'Rated', key: KEYS.rated, rate_limits: { requests_per_minute: 3 } },
          { id: 'narrow', name: 'Narrow', key: KEYS.narrow, allowed_models: ['cheap/*'] },
          { id: 'seed', name: 'Seed', key: KEYS.seed, budget: { limit_usd: 0.2, period: 'total' } },
        ],
      },
      rules: [
        { name: 'team-a-canary', scope: 'team', scope_id: 'team-a', cel_expression: 'model == "svc"', targets: [{ provider: 'stable', model: 'v1', weight: 0.9 }, { provider: 'canary', model: 'v2', weight: 0.1 }] },
        { name: 'budget-saver', cel_expression: 'budget_used > 85.0 && provider == "premium"', targets: [{ provider: 'cheap', model: 'small' }] },
      ],
      aliases: { svc: 'stable/v1' },
    });
  });
  after(() => closeAll(gw, [premium, cheap, stable, canary]));

  it('unknown keys get 401; anonymous use is off', async () => {
    await assert.rejects(client(gw, 'sk-sy-nope-000000000000000').chat.completions.create({ model: 'premium/big', messages: [{ role: 'user', content: 'x' }] }),
      (e: unknown) => e instanceof OpenAI.AuthenticationError);
    await assert.rejects(client(gw, 'whatever').models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
  });

  it('enforces a budget to the cent over many requests, streamed ones included', async () => {
    const ai = client(gw, KEYS.capped);
    let spent = 0;
    let refused: unknown;
    for (let i = 0; i < 200 && !refused; i++) {
      try {
        if (i % 2 === 0) {
          const r = await ai.chat.completions.create({ model: 'premium/big', max_tokens: 8, messages: [{ role: 'user', content: `count the stars ${i}` }] });
          spent += (r.usage!.prompt_tokens + r.usage!.completion_tokens) * 0.001;
        } else {
          const s = await ai.chat.completions.create({ model: 'premium/big', max_tokens: 8, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: `stream ${i}` }] });
          for await (const c of s) if (c.usage) spent += (c.usage.prompt_tokens + c.usage.completion_tokens) * 0.001;
        }
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(refused instanceof OpenAI.APIError && refused.status === 402, String(refused));
    assert.equal((refused as any).error?.code, 'budget_exceeded');
    assert.match((refused as Error).message, /budget/i);
    const report = await usage(gw, 'capped');
    assert.equal(Math.round(report.budget.used_usd * 100), Math.round(spent * 100), 'billed exactly what the upstream reported');
    assert.ok(report.budget.used_usd <= 0.1 + 1e-9, `never over the limit: ${report.budget.used_usd}`);
  });

  it('rate limits answer 429 with retry-after and never reach the upstream', async () => {
    const ai = client(gw, KEYS.rated);
    for (let i = 0; i < 3; i++) await ai.chat.completions.create({ model: 'cheap/small', messages: [{ role: 'user', content: `r${i}` }] });
    const before = cheap.requestCount();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.rated}` },
      body: JSON.stringify({ model: 'cheap/small', messages: [{ role: 'user', content: 'one more' }] }),
    });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    assert.equal(((await res.json()) as any).error.code, 'rate_limit_exceeded');
    assert.equal(cheap.requestCount(), before);
  });

  it('model allow-lists refuse other models', async () => {
    const ai = client(gw, KEYS.narrow);
    await ai.chat.completions.create({ model: 'cheap/small', messages: [{ role: 'user', content: 'ok' }] });
    await assert.rejects(ai.chat.completions.create({ model: 'premium/big', messages: [{ role: 'user', content: 'no' }] }),
      (e: unknown) => e instanceof OpenAI.PermissionDeniedError && (e.error as any)?.code === 'model_not_allowed');
  });

  it('the budget rule moves traffic to the cheap provider past 85% and refuses at 100%', async () => {
    const ai = client(gw, KEYS.seed);
    const seen: string[] = [];
    let refused: unknown;
    for (let i = 0; i < 200 && !refused; i++) {
      try {
        seen.push(who(await ai.chat.completions.create({ model: 'premium/big', max_tokens: 4, messages: [{ role: 'user', content: `q ${i}` }] })));
      } catch (err) {
        refused = err;
      }
    }
    const firstCheap = seen.indexOf('cheap');
    assert.ok(firstCheap > 0, seen.join(','));
    assert.ok(seen.slice(0, firstCheap).every((p) => p === 'premium'));
    assert.ok(seen.slice(firstCheap).every((p) => p === 'cheap'));
    const report = await usage(gw, 'seed');
    assert.ok(refused instanceof OpenAI.APIError && refused.status === 402, String(refused));
    assert.ok(report.budget.used_usd <= 0.2 + 1e-9 && report.budget.used_usd > 0.2 * 0.85, JSON.stringify(report.budget));
  });

  it('a team canary splits 0.9 / 0.1 for that team only', async () => {
    const a = client(gw, KEYS.a);
    const b = client(gw, KEYS.b);
    const n = 300;
    let canaryHits = 0;
    for (let i = 0; i < n; i++) {
      const r = await a.chat.completions.create({ model: 'svc', messages: [{ role: 'user', content: `canary ${i}` }] });
      if (who(r) === 'canary') canaryHits++;
    }
    const sigma = Math.sqrt(n * 0.1 * 0.9);
    assert.ok(Math.abs(canaryHits - 0.1 * n) < 5 * sigma, `canary got ${canaryHits} of ${n}`);
    for (let i = 0; i < 20; i++) assert.equal(who(await b.chat.completions.create({ model: 'svc', messages: [{ role: 'user', content: `b ${i}` }] })), 'stable');
  });

  it('the cache never serves one tenant\'s answer to another', async () => {
    const a = client(gw, KEYS.a);
    const b = client(gw, KEYS.b);
    await a.chat.completions.create({ model: 'cheap/small', messages: [{ role: 'user', content: 'what is our secret roadmap' }] });
    const again = await a.chat.completions.create({ model: 'cheap/small', messages: [{ role: 'user', content: 'what is our secret roadmap' }] }).withResponse();
    assert.equal(again.response.headers.get('x-switchyard-cache'), 'hit-exact');
    const other = await b.chat.completions.create({ model: 'cheap/small', messages: [{ role: 'user', content: 'what is our secret roadmap' }] }, { headers: { 'x-switchyard-tenant': 'ka' } }).withResponse();
    assert.equal(other.response.headers.get('x-switchyard-cache'), 'miss');
  });
});

suite('several gateway processes on one Redis', redisSkip, () => {
  let up: Simulator;
  let dir: string;
  const prefix = `test:${randomUUID()}:`;
  const procs: ChildProcess[] = [];
  let proxyCut: (() => Promise<void>) | undefined;

  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    dir = await mkdtemp(join(tmpdir(), 'switchyard-multi-'));
  });
  after(async () => {
    for (const p of procs) p.kill('SIGTERM');
    await proxyCut?.();
    await up.close();
    await rm(dir, { recursive: true, force: true });
    const c = createClient({ url: TEST_REDIS_URL });
    await c.connect();
    const keys = await c.keys(`${prefix}*`);
    if (keys.length) await c.del(keys);
    await c.quit();
  });

  async function startProcess(file: string): Promise<string> {
    const gw = await spawnGateway(cliArgs('--config', file, '--port', '0'), { env: process.env, timeoutMs: 20_000 });
    procs.push(gw.child);
    return gw.url;
  }

  it('share one budget without overspending beyond one request\'s estimate, and keep serving when Redis goes away', async () => {
    const proxy = await redisProxy();
    proxyCut = proxy.cut;
    const file = join(dir, 'gw.yaml');
    await writeFile(file, `
server: { admin_key: ${ADMIN} }
semantic: { enabled: false }
redis: { url: "${proxy.url}", key_prefix: "${prefix}" }
logging: { level: info }
providers:
  up: { kind: openai, base_url: "${up.url}", keys: [{ id: k, value: x }], models: [m] }
governance:
  on_store_error: fail_open
  pricing: { "up/m": { input: 1000, output: 1000 } }
  keys: [{ id: shared, name: Shared, key: ${KEYS.a}, budget: { limit_usd: 0.2, period: total } }]
`);
    const [u1, u2] = await Promise.all([startProcess(file), startProcess(file)]);
    const clients = [u1, u2].map((u) => new OpenAI({ apiKey: KEYS.a, baseURL: `${u}/v1`, maxRetries: 0 }));
    let spent = 0;
    let maxOne = 0;
    let refusals = 0;
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 60 && refusals < 8; i++) {
        try {
          const r = await clients[(w + i) % 2].chat.completions.create({ model: 'up/m', max_tokens: 6, messages: [{ role: 'user', content: `worker ${w} request ${i}` }] });
          const cost = (r.usage!.prompt_tokens + r.usage!.completion_tokens) * 0.001;
          spent += cost;
          maxOne = Math.max(maxOne, cost);
        } catch (err) {
          assert.ok(err instanceof OpenAI.APIError && err.status === 402, String(err));
          refusals++;
        }
      }
    }));
    assert.ok(refusals > 0, 'the shared budget ran out');
    assert.ok(spent <= 0.2 + maxOne + 1e-9, `spent ${spent} against a 0.2 budget`);
    assert.ok(spent > 0.2 * 0.8, `most of the budget was usable: ${spent}`);

    // Redis goes away: with fail_open each process keeps serving on local counters, and readiness says Redis is down.
    await proxy.cut();
    const during = await new OpenAI({ apiKey: KEYS.a, baseURL: `${u1}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'up/m', max_tokens: 6, messages: [{ role: 'user', content: 'served while redis is away' }] });
    assert.match(during.choices[0].message.content ?? '', /served while redis is away/);
    const ready = await fetch(`${u1}/ready`);
    const body = (await ready.json()) as any;
    assert.equal(body.redis, 'down');
    await proxy.restore();
  });
});

describe('allow-lists apply before the cache', () => {
  let up: Simulator;
  let gw: Gateway;
  const WIDE = 'sk-sy-wide-0000000000000000001';
  const NARROW = 'sk-sy-narrow-000000000000000002';
  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    gw = await gateway({
      cache: { enabled: true, semantic: false, partition_by: 'team' },
      providers: { up: provider(up, ['large', 'small']) },
      governance: {
        teams: [{ id: 't', name: 'T' }],
        keys: [
          { id: 'wide', name: 'Wide', key: WIDE, team_id: 't' },
          { id: 'narrow', name: 'Narrow', key: NARROW, team_id: 't', allowed_models: ['up/small'] },
        ],
      },
    });
  });
  after(() => closeAll(gw, [up]));

  it('a teammate\'s cached answer is not served for a model the caller may not use', async () => {
    const ask = { model: 'up/large', messages: [{ role: 'user' as const, content: 'a question for the large model' }] };
    await client(gw, WIDE).chat.completions.create(ask);
    const again = await client(gw, WIDE).chat.completions.create(ask).withResponse();
    assert.equal(again.response.headers.get('x-switchyard-cache'), 'hit-exact');
    await assert.rejects(client(gw, NARROW).chat.completions.create(ask),
      (e: unknown) => e instanceof OpenAI.PermissionDeniedError && (e.error as any)?.code === 'model_not_allowed');
  });
});

describe('streams are billed on the upstream\'s usage even when the client did not ask for it', () => {
  let up: Simulator;
  let gw: Gateway;
  const KEY = 'sk-sy-stream-billing-00000000001';
  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    gw = await gateway({
      server: { admin_key: ADMIN },
      providers: { up: provider(up, ['m']) },
      governance: { pricing: { 'up/m': PRICE }, keys: [{ id: 'sb', name: 'SB', key: KEY, budget: { limit_usd: 10, period: 'total' } }] },
    });
  });
  after(() => closeAll(gw, [up]));

  it('asks the upstream for usage, bills it exactly, and does not send the usage chunk to the client', async () => {
    const raw = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: 'up/m', stream: true, messages: [{ role: 'user', content: 'five little words here' }] }),
    });
    const text = await raw.text();
    assert.match(text, /data: \[DONE\]/);
    const chunks = text.split('\n\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)));
    assert.ok(chunks.every((c) => c.choices.length > 0), 'no usage-only chunk reached the client');
    const sent = up.requests.at(-1)!.body!;
    assert.deepEqual(sent.stream_options, { include_usage: true });
    // Ask the same again without streaming to learn the exact usage the simulator reports for this prompt.
    const json = await client(gw, KEY).chat.completions.create({ model: 'up/m', messages: [{ role: 'user', content: 'five little words here' }] });
    const report = await usage(gw, 'sb');
    const expected = 2 * (json.usage!.prompt_tokens + json.usage!.completion_tokens) * 0.001;
    assert.equal(Math.round(report.budget.used_usd * 1e6), Math.round(expected * 1e6));
  });
});

describe('a model named like an Object.prototype member does not void a budget', () => {
  let up: Simulator;
  let gw: Gateway;
  const KEY = 'sk-sy-proto-model-0000000000001';
  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    // No model list: the provider takes any model name the caller gives.
    gw = await gateway({
      server: { admin_key: ADMIN },
      providers: { up: provider(up, []) },
      governance: { pricing: { 'up/m': PRICE }, keys: [{ id: 'pm', name: 'PM', key: KEY, budget: { limit_usd: 0.05, period: 'total' } }] },
    });
  });
  after(() => closeAll(gw, [up]));

  it('requests for up/constructor are billed as unpriced (0), and the budget still refuses a priced request over it', async () => {
    const ask = (model: string) => fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'five little words here' }] }),
    });
    for (const model of ['up/constructor', 'up/toString']) assert.equal((await ask(model)).status, 200);
    const report = await usage(gw, 'pm');
    assert.equal(report.budget.used_usd, 0, JSON.stringify(report.budget));
    const r = await ask('up/m');
    assert.equal(r.status, 402, 'a request estimated over the budget is refused');
    assert.equal(((await r.json()) as any).error.code, 'budget_exceeded');
  });
});
