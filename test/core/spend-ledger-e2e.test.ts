/**
 * The spend ledger end to end: two gateway instances sharing Redis, three virtual keys in two teams, intent rules routing to a
 * cheap and an expensive model, exact cache hits and a stream — through the official openai client against simulators. The
 * ledger's per-key and per-team totals must equal the sum of the requests' own costs (computed here from each reply's usage
 * and the configured prices), the savings must equal a hand computation against the baseline model, /metrics must show the
 * same numbers, and the dashboard's spend charts must be drawn in headless Chromium.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import OpenAI from 'openai';
import { chromium } from 'playwright-core';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { gateway, provider, sims } from '../helpers/gateway.js';
import { CHROMIUM, chromiumSkip, redisSkip, suite, TEST_REDIS_URL, testRedisClient } from '../helpers/requires.js';
import { sample } from '../observability/harness.js';

const ADMIN = 'admin-key-for-ledger-tests-0123456789';
const KEYS = { k1: 'sk-sy-ledger-k1-000000000000001', k2: 'sk-sy-ledger-k2-000000000000002', k3: 'sk-sy-ledger-k3-000000000000003' };
const TEAM: Record<keyof typeof KEYS, string> = { k1: 'team-a', k2: 'team-a', k3: 'team-b' };
// USD per million tokens, chosen so every token costs a whole number of nano-dollars (exact sums).
const PRICES = { 'cheap/mini': { input: 1, output: 2 }, 'premium/large': { input: 10, output: 30 } } as const;
type Model = keyof typeof PRICES;
const nanos = (m: Model, u: { prompt_tokens: number; completion_tokens: number }): number =>
  (u.prompt_tokens * PRICES[m].input + u.completion_tokens * PRICES[m].output) * 1000;

const SMALL_TALK = ['hello there, how are you today?', 'good morning, nice weather we are having'];
const CODE = ['write a python function that reverses a linked list', 'fix this javascript error: undefined is not a function'];

interface Sent {
  key: keyof typeof KEYS;
  usage: { prompt_tokens: number; completion_tokens: number };
  hit: boolean;
  /** Where the rules send it (a hit: where it would have gone). */
  routed: Model;
  rule: string;
}

suite('spend ledger across two instances sharing Redis', redisSkip, () => {
  let cheap: Simulator;
  let premium: Simulator;
  let a: Gateway;
  let b: Gateway;
  let dir: string;
  const prefix = `sy-ledger-test-${randomUUID()}:`;
  const sent: Sent[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'switchyard-ledger-'));
    const prompts = path.join(dir, 'reference-prompts');
    await mkdir(prompts);
    await writeFile(path.join(prompts, 'small_talk.yaml'), ['name: small_talk', 'description: Greetings and chit-chat', 'examples:', ...SMALL_TALK.map((e) => `  - ${e}`), ''].join('\n'));
    await writeFile(path.join(prompts, 'code.yaml'), ['name: code', 'description: Programming questions', 'examples:', ...CODE.map((e) => `  - "${e}"`), ''].join('\n'));
    [cheap, premium] = await sims({ protocol: 'openai', name: 'cheap' }, { protocol: 'openai', name: 'premium' });
    const raw = {
      server: { admin_key: ADMIN },
      redis: { url: TEST_REDIS_URL, key_prefix: prefix },
      semantic: { reference_prompts: { dir: prompts, watch: false, cache_dir: '' } },
      cache: { enabled: true, semantic: false },
      providers: { cheap: provider(cheap, ['mini']), premium: provider(premium, ['large']) },
      aliases: { auto: 'cheap/mini' },
      governance: {
        pricing: PRICES,
        ledger: { flush_interval_ms: 50, baseline_model: 'premium/large' },
        teams: [{ id: 'team-a', name: 'A' }, { id: 'team-b', name: 'B' }],
        keys: Object.entries(KEYS).map(([id, key]) => ({ id, name: id, key, team_id: TEAM[id as keyof typeof KEYS] })),
      },
      rules: [
        { name: 'small-talk-stays-small', cel_expression: 'intent == "small_talk"', priority: 10, targets: [{ provider: 'cheap', model: 'mini' }] },
        { name: 'code-goes-large', cel_expression: 'intent == "code"', priority: 20, targets: [{ provider: 'premium', model: 'large' }] },
      ],
    };
    a = await gateway(raw);
    b = await gateway(raw);
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await Promise.all([cheap?.close(), premium?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
    const redis = await testRedisClient();
    try {
      for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
    } finally {
      redis.destroy();
    }
  });

  const ai = (gw: Gateway, key: keyof typeof KEYS): OpenAI => new OpenAI({ apiKey: KEYS[key], baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 60_000 });

  async function ask(gw: Gateway, key: keyof typeof KEYS, model: string, text: string, routed: Model, rule: string): Promise<void> {
    const { data, response } = await ai(gw, key).chat.completions.create({ model, messages: [{ role: 'user', content: text }] }).withResponse();
    const hit = response.headers.get('x-switchyard-cache') === 'hit-exact';
    if (!hit) assert.equal(data.model, routed.split('/')[1], `'${text}' was answered by ${routed}`);
    assert.ok(data.usage, 'the reply carries usage');
    sent.push({ key, usage: data.usage, hit, routed, rule });
  }

  async function askStream(gw: Gateway, key: keyof typeof KEYS, text: string, routed: Model, rule: string): Promise<void> {
    const stream = await ai(gw, key).chat.completions.create({ model: 'premium/large', messages: [{ role: 'user', content: text }], stream: true, stream_options: { include_usage: true } });
    let usage: Sent['usage'] | undefined;
    let model = '';
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      if (chunk.model) model = chunk.model;
    }
    assert.equal(model, routed.split('/')[1]);
    assert.ok(usage, 'the stream ends with usage');
    sent.push({ key, usage, hit: false, routed, rule });
  }

  const admin = async (gw: Gateway, query: string): Promise<any> => {
    const res = await fetch(`${gw.url}/admin/usage?${query}`, { headers: { 'x-admin-key': ADMIN } });
    assert.equal(res.status, 200, await res.clone().text());
    return res.json();
  };

  /** Instance B flushes every 50 ms and A flushes when asked; a stream is recorded as it ends, just after the client's last byte. */
  async function settled(n: number): Promise<any> {
    for (let i = 0; ; i++) {
      const r = await admin(a, 'group_by=key');
      if (r.totals.requests === n) return r;
      if (i > 200) assert.fail(`the shared ledger holds ${r.totals.requests} requests, ${n} were sent`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('files every request by key and team, with costs and savings that add up across both instances', async () => {
    // The caller asks for the expensive model; small talk is moved to the cheap one, code stays. Repeats are exact cache hits.
    await ask(a, 'k1', 'premium/large', SMALL_TALK[0], 'cheap/mini', 'small-talk-stays-small');
    await ask(a, 'k1', 'premium/large', SMALL_TALK[0], 'cheap/mini', 'small-talk-stays-small');
    await ask(a, 'k2', 'premium/large', CODE[0], 'premium/large', 'code-goes-large');
    await ask(b, 'k3', 'premium/large', SMALL_TALK[1], 'cheap/mini', 'small-talk-stays-small');
    await ask(b, 'k3', 'premium/large', SMALL_TALK[1], 'cheap/mini', 'small-talk-stays-small');
    await ask(b, 'k2', 'premium/large', CODE[1], 'premium/large', 'code-goes-large');
    await ask(b, 'k2', 'premium/large', CODE[1], 'premium/large', 'code-goes-large');
    // An alias: its baseline is governance.ledger.baseline_model (premium/large), whatever the alias resolves to.
    await ask(b, 'k1', 'auto', SMALL_TALK[0], 'cheap/mini', 'small-talk-stays-small');
    await askStream(a, 'k3', SMALL_TALK[1], 'cheap/mini', 'small-talk-stays-small');
    assert.deepEqual(sent.map((s) => s.hit), [false, true, false, false, true, false, true, false, false]);

    // By hand: what each request cost, and what it would have cost on the baseline (premium/large) with the same usage.
    const cost = (s: Sent): number => (s.hit ? 0 : nanos(s.routed, s.usage));
    const baseline = (s: Sent): number => nanos('premium/large', s.usage);
    const sum = (list: Sent[], f: (s: Sent) => number): number => list.reduce((t, s) => t + f(s), 0);
    const usd = (n: number): number => n / 1e9;
    const near = (actual: number, expected: number, what: string): void =>
      assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} ≠ ${expected}`);

    const byKey = await settled(sent.length);
    assert.equal(byKey.source, 'redis');
    const totalCost = sum(sent, cost);
    assert.ok(totalCost > 0);
    near(byKey.totals.cost_usd, usd(totalCost), 'total cost');
    for (const key of Object.keys(KEYS) as Array<keyof typeof KEYS>) {
      const mine = sent.filter((s) => s.key === key);
      const g = byKey.groups.find((x: any) => x.key === key);
      assert.ok(g, `a row for ${key}`);
      assert.equal(g.requests, mine.length, `${key} requests`);
      near(g.cost_usd, usd(sum(mine, cost)), `${key} cost`);
      assert.equal(g.cache_hits, mine.filter((s) => s.hit).length, `${key} hits`);
    }
    const byTeam = await admin(a, 'group_by=team');
    for (const team of ['team-a', 'team-b']) {
      const mine = sent.filter((s) => TEAM[s.key] === team);
      const g = byTeam.groups.find((x: any) => x.team === team);
      near(g.cost_usd, usd(sum(mine, cost)), `${team} cost`);
      assert.equal(g.requests, mine.length);
    }

    // Savings: baseline − cost, split into what routing saved and what the cache avoided (the routed model's price of a hit).
    const saved = sum(sent, baseline) - totalCost;
    const savedCache = sum(sent.filter((s) => s.hit), (s) => nanos(s.routed, s.usage));
    assert.ok(saved > 0 && savedCache > 0);
    near(byKey.totals.baseline_usd, usd(sum(sent, baseline)), 'baseline');
    near(byKey.totals.saved_usd, usd(saved), 'saved');
    near(byKey.totals.saved_cache_usd, usd(savedCache), 'saved by the cache');
    near(byKey.totals.saved_routing_usd, usd(saved - savedCache), 'saved by routing');

    const byRule = await admin(a, 'group_by=rule');
    const small = sent.filter((s) => s.rule === 'small-talk-stays-small');
    const smallRow = byRule.groups.find((x: any) => x.rule === 'small-talk-stays-small');
    near(smallRow.saved_usd, usd(sum(small, baseline) - sum(small, cost)), 'small talk savings');
    assert.equal(smallRow.moved, small.length, 'every small-talk request moved off the baseline model');
    assert.equal(smallRow.moved_pct, 100);
    const codeRow = byRule.groups.find((x: any) => x.rule === 'code-goes-large');
    assert.equal(codeRow.moved, 0);
    near(codeRow.saved_usd, usd(sum(sent.filter((s) => s.rule === 'code-goes-large' && s.hit), baseline)), 'code: only its cache hit saved');

    // CSV: one line per group, the same figures.
    const csv = await fetch(`${a.url}/admin/usage?group_by=team&format=csv`, { headers: { 'x-admin-key': ADMIN } });
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    assert.equal(lines[0].split(',')[0], 'team');
    assert.equal(lines.length, 3);
    const col = lines[0].split(',').indexOf('cost_usd');
    const csvTotal = lines.slice(1).reduce((t, l) => t + Number(l.split(',')[col]), 0);
    near(csvTotal, usd(totalCost), 'CSV cost');

    // /metrics: each instance counts what it served; together they make the ledger's totals.
    const metrics = await Promise.all([a, b].map(async (gw) => (await fetch(`${gw.url}/metrics`, { headers: { 'x-admin-key': ADMIN } })).text()));
    const total = (name: string, labels: Record<string, string> = {}): number => metrics.reduce((t, m) => t + (sample(m, name, labels) ?? 0), 0);
    near(total('switchyard_cost_usd_total'), usd(totalCost), 'switchyard_cost_usd_total');
    near(total('switchyard_saved_usd_total') - total('switchyard_routing_overspend_usd_total'), usd(saved), 'switchyard_saved_usd_total');
    near(total('switchyard_saved_usd_total', { source: 'cache' }), usd(savedCache), 'saved by the cache in /metrics');
    near(total('switchyard_cost_usd_total', { model: 'mini' }), usd(sum(sent.filter((s) => s.routed === 'cheap/mini'), cost)), 'cost of the cheap model');
  });

  it('refuses bad queries in the error envelope', async () => {
    for (const q of ['group_by=colour', 'from=yesterday', 'from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z', 'format=xml', 'limit=0', 'limit=10001', 'limit=two']) {
      const res = await fetch(`${a.url}/admin/usage?${q}`, { headers: { 'x-admin-key': ADMIN } });
      assert.equal(res.status, 400, q);
      const body = await res.json() as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'invalid_request_error', q);
    }
    assert.equal((await fetch(`${a.url}/admin/usage`)).status, 401, 'the admin key is required');
    // A range reaching far into the future reads only the hours that can hold data.
    const far = await admin(a, 'from=0&to=999999999999999');
    assert.equal(far.totals.requests, sent.length);
  });

  it('draws spend over time and savings by rule on the dashboard', { skip: chromiumSkip }, async () => {
    const userDir = path.join(dir, 'chromium');
    const context = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.route((u) => u.pathname === '/dashboard', (route) => route.continue({ headers: { ...route.request().headers(), 'x-admin-key': ADMIN } }));
      await page.goto(`${a.url}/dashboard?key=${ADMIN}`);
      await page.locator('#chart-savings svg rect.bar').first().waitFor({ state: 'visible' });
      // Spend over time: a line with real extent, its latest point marked.
      const line = await page.locator('#chart-spend svg path.line').evaluate((p) => {
        const box = (p as SVGPathElement).getBoundingClientRect();
        return { d: p.getAttribute('d') ?? '', width: box.width, height: box.height };
      });
      assert.match(line.d, /^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+)+$/, 'a path through the hourly points');
      assert.ok(line.width > 100, `the spend line spans the chart (${line.width}px)`);
      // Savings by rule: one bar per rule that had traffic, the longest for the rule that saved most.
      const bars = await page.locator('#chart-savings svg g.bar-row').evaluateAll((rows) => rows.map((g) => ({
        name: g.querySelector('text.name')?.textContent ?? '',
        width: g.querySelector('rect')?.getBoundingClientRect().width ?? 0,
      })));
      assert.deepEqual(bars.map((x) => x.name), ['small-talk-stays-small', 'code-goes-large']);
      assert.ok(bars[0].width > 50 && bars[0].width > bars[1].width, JSON.stringify(bars));
      assert.match(await page.locator('#spend-note').textContent() ?? '', /spent, .* saved/);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
