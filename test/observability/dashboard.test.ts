/**
 * The dashboard end to end in headless Chromium: a real gateway (HTTP app, pipeline, rules, cache, provider executor against
 * simulators) with the metrics and dashboard routers behind the admin key; the page is driven by a real browser.
 * Skipped when /usr/bin/chromium is absent (install: apt-get install -y chromium).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Simulator } from '../../src/simulator/types.js';
import { provider, sims } from '../helpers/gateway.js';
import { CHROMIUM, chromiumSkip, suite } from '../helpers/requires.js';
import { ADMIN_KEY, observedGateway, type ObservedGateway } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
suite('dashboard in headless Chromium', chromiumSkip, () => {
  let primary: Simulator;
  let backup: Simulator;
  let gw: ObservedGateway;
  let context: BrowserContext;
  let userDir: string;
  const problems: string[] = [];

  before(async () => {
    userDir = await mkdtemp(path.join(tmpdir(), 'switchyard-chromium-'));
    const promptsDir = path.join(userDir, 'reference-prompts');
    await mkdir(promptsDir);
    await writeFile(path.join(promptsDir, 'customer_support.yaml'), [
      'name: customer_support',
      'description: Orders, refunds and account questions',
      'threshold: 0.62',
      'metadata: { team: support, tier: simple }',
      'examples:',
      '  - Where is my order?',
      '  - I want a refund for my last purchase',
      '  - How do I reset my password?',
      '',
    ].join('\n'));
    await writeFile(path.join(promptsDir, 'chit_chat.md'), '# description: Greetings and small talk\nhello there\nhow are you today\n');
    [primary, backup] = await sims({ protocol: 'openai', name: 'primary' }, { protocol: 'openai', name: 'backup' });
    gw = await observedGateway(
      {
        providers: {
          primary: provider(primary, ['gpt-small', 'gpt-large'], [{ id: 'key-a' }, { id: 'key-b' }]),
          backup: provider(backup, ['gpt-small'], [{ id: 'key-c' }]),
        },
        routing: { fallbacks: { 'primary/gpt-small': ['backup/gpt-small'] } },
        circuit: { consecutive_failures: 100 },
      },
      [
        { name: 'long-prompts-to-large', cel_expression: 'prompt_chars > 60', priority: 10, targets: [{ provider: 'primary', model: 'gpt-large' }] },
        { name: 'streams-to-backup', cel_expression: 'request_type == "chat_completion_stream"', priority: 20, targets: [{ provider: 'backup', model: 'gpt-small' }], enabled: true },
        // Reads the intent, so every request is classified (the "Traffic by intent" bars); routes where the request asked.
        { name: 'support-desk', cel_expression: 'intent == "customer_support"', priority: 30, targets: [{ provider: 'primary', model: 'gpt-small' }] },
      ],
      promptsDir,
    );
    context = await chromium.launchPersistentContext(path.join(userDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      // A common laptop width: every panel, the decisions table included, must fit it without horizontal scrolling.
      viewport: { width: 1280, height: 900 },
    });
  });

  after(async () => {
    await context?.close();
    await gw?.close();
    await Promise.all([primary?.close(), backup?.close()]);
    if (userDir) await rm(userDir, { recursive: true, force: true });
  });

  /** A page that reports script errors and CSP violations; only the document request carries the admin key as a header. */
  async function open(url: string): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    await page.route((u) => u.pathname === '/dashboard', (route) => route.continue({ headers: { ...route.request().headers(), 'x-admin-key': ADMIN_KEY } }));
    await page.goto(url);
    return page;
  }

  /** Each bar of a "Traffic by ..." panel: its count, and the rendered widths of its fill and its track. */
  const bars = (page: Page, id: string) => page.locator(`#${id} li`).evaluateAll((items) => items.map((li) => ({
    name: li.querySelector('.name')?.textContent ?? '',
    n: Number((li.querySelector('.n')?.textContent ?? '').replace(/[^\d]/g, '')),
    fill: li.querySelector('.fill')?.getBoundingClientRect().width ?? 0,
    track: li.querySelector('.track')?.getBoundingClientRect().width ?? 0,
  })));

  /** How far the page, and each scrollable table, is wider than what shows (0 = no horizontal scrolling). */
  const overflow = (page: Page) => page.evaluate(() => ({
    page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    tables: Array.from(document.querySelectorAll('.table-wrap')).map((w) => ({ id: w.id, over: w.scrollWidth - w.clientWidth })).filter((t) => t.over > 0),
  }));

  const requests = (page: Page): Promise<number> =>
    page.locator('#kpi-requests').textContent().then((t) => Number((t ?? '').replace(/[^\d]/g, '')));

  const chat = (content: string, extra: Record<string, unknown> = {}) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'primary/gpt-small', messages: [{ role: 'user', content }], ...extra }),
    }).then(async (r) => ({ status: r.status, body: await r.text() }));

  it('loads with the key from ?key=, then shows live numbers, health, decisions and categories', async () => {
    const page = await open(`${gw.url}/dashboard?key=${ADMIN_KEY}`);
    await page.locator('#main').waitFor({ state: 'visible' });
    assert.equal(await requests(page), 0);
    assert.doesNotMatch(page.url(), /key=/, 'the key is taken out of the address bar');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('switchyard.adminKey')), ADMIN_KEY);

    // Real traffic: plain requests, exact repeats (cache hits), a rule match, a retry on the other key, a stream, a caller error.
    assert.equal((await chat('hello')).status, 200);
    assert.equal((await chat('where is my order')).status, 200);
    await gw.stored(2);
    for (const q of ['hello', 'where is my order', 'hello']) assert.equal((await chat(q)).status, 200);
    assert.equal((await chat('Please write a detailed, careful explanation of how a semantic cache decides a hit.')).status, 200);
    primary.inject({ status: 503 });
    assert.equal((await chat('fall back to the backup')).status, 200);
    assert.equal((await chat('stream this answer', { stream: true })).status, 200);
    assert.equal((await chat('unknown model', { model: 'nowhere/x' })).status, 404);

    await page.waitForFunction(() => Number((document.getElementById('kpi-requests')?.textContent ?? '').replace(/[^\d]/g, '')) >= 9, undefined, { timeout: 20_000 });
    assert.equal(await requests(page), 9);

    const providers = await page.locator('#health-table tr[data-provider]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-provider')));
    assert.deepEqual(providers.sort(), ['backup', 'primary']);
    assert.match((await page.locator('#health-table').textContent()) ?? '', /key-a.*key-b.*key-c/s);

    assert.equal(await page.locator('#recent-table tr.decision').count(), 9);
    assert.match((await page.locator('#by-rule').textContent()) ?? '', /long-prompts-to-large/);
    assert.match((await page.locator('#by-provider').textContent()) ?? '', /cache/);
    assert.match((await page.locator('#kpi-cache').textContent()) ?? '', /%/);
    assert.match((await page.locator('#categories').textContent()) ?? '', /customer_support/);
    assert.match((await page.locator('#rules').textContent()) ?? '', /streams-to-backup/);
    assert.ok(await page.locator('#chart-rate svg path.line').count() === 1);

    // The bars are visible and proportional: the busiest fills its track, every other one its share of it.
    for (const id of ['by-intent', 'by-rule', 'by-provider']) {
      const rows = await bars(page, id);
      assert.ok(rows.length >= 2, `${id}: ${JSON.stringify(rows)}`);
      const max = Math.max(...rows.map((r) => r.n));
      for (const r of rows) {
        assert.ok(r.track > 40, `${id} ${r.name}: the track is visible (${r.track} px)`);
        assert.ok(Math.abs(r.fill - (r.track * r.n) / max) <= 2.5, `${id} ${r.name}: ${r.n} of ${max} fills ${r.fill} of ${r.track} px`);
      }
    }
    assert.deepEqual(await overflow(page), { page: 0, tables: [] }, 'nothing scrolls sideways at 1280 px');

    // Expand the retried decision (two attempts): its attempts and explain trace appear; no prompt text is on the page.
    const row = page.locator('#recent-table tr.decision').filter({ has: page.locator('td.num', { hasText: /^2$/ }) });
    assert.equal(await row.count(), 1);
    await row.locator('button.expand').click();
    const detail = page.locator('#recent-table tr.detail');
    await detail.waitFor();
    const detailText = (await detail.textContent()) ?? '';
    assert.match(detailText, /primary\/gpt-small key key-[ab] → 502 .*primary\/gpt-small key key-[ab] → 200/);
    assert.match(detailText, /Explain trace/);
    assert.match(detailText, /"route"/);
    assert.deepEqual(await overflow(page), { page: 0, tables: [] }, 'an open explain trace wraps instead of widening the table');
    assert.equal(await row.locator('button.expand').getAttribute('aria-expanded'), 'true');
    const html = await page.content();
    assert.doesNotMatch(html, /fall back to the backup|where is my order|semantic cache decides/);

    await mkdir(path.join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'dashboard.png'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, []);
  });

  it('asks for the key when the page is opened without one, and refuses a wrong key', async () => {
    const page = await open(`${gw.url}/dashboard`);
    await page.locator('#login').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#main').isHidden(), true);
    await page.fill('#key-input', 'wrong-key');
    await page.click('#login button[type=submit]');
    await page.locator('#login-error').filter({ hasText: 'not accepted' }).waitFor();
    await page.fill('#key-input', ADMIN_KEY);
    await page.click('#login button[type=submit]');
    await page.locator('#main').waitFor({ state: 'visible' });
    assert.ok((await requests(page)) >= 9);
    await page.close();
    assert.deepEqual(problems.filter((p) => !/401/.test(p)), [], 'only the refused key produced an error');
  });

  it('serves the page with a strict Content-Security-Policy and the data as JSON', async () => {
    const pageRes = await fetch(`${gw.url}/dashboard`, { headers: { 'x-admin-key': ADMIN_KEY } });
    assert.equal(pageRes.status, 200);
    assert.match(pageRes.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'sha256-/);
    const data = (await (await fetch(`${gw.url}/dashboard/data`, { headers: { 'x-admin-key': ADMIN_KEY } })).json()) as any;
    assert.equal(data.activity.totals.requests, 9);
    assert.deepEqual(Object.keys(data.health).sort(), ['backup', 'primary']);
    assert.ok(data.categories.every((c: { examples: unknown }) => typeof c.examples === 'number'));
    assert.equal((await fetch(`${gw.url}/dashboard/data`)).status, 401);
  });
});
