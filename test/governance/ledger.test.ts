/** The spend ledger's parts without a gateway: pricing a request, the baseline, bounded books, reports and CSV. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Pricing } from '../../src/governance/pricing.js';
import { HOUR_MS, HourlyBook, OTHER } from '../../src/ledger/book.js';
import { baselineTarget } from '../../src/ledger/baseline.js';
import { ledgerConfigSchema } from '../../src/ledger/config.js';
import { A, AMOUNTS, DIMENSIONS, priceRequest } from '../../src/ledger/entry.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { buildReport, reportCsv } from '../../src/ledger/report.js';
import type { ModelTable } from '../../src/pipeline/resolve-target.js';

const pricing = new Pricing({ overrides: { 'c/small': { input: 1, output: 2 }, 'c/big': { input: 10, output: 20 }, 'c/judge': { input: 5, output: 5 } } });
const small = { provider: 'c', model: 'small' };
const big = { provider: 'c', model: 'big' };
const u = (p: number, c: number) => ({ prompt_tokens: p, completion_tokens: c, total_tokens: p + c });

test('a routed request saves the baseline price of its own usage minus what it paid', () => {
  const a = priceRequest(pricing, { baseline: big, answered: small, parts: [{ target: small, usage: u(100, 50) }], usage: u(100, 50), hit: false });
  assert.equal(a[A.cost], (100 * 1 + 50 * 2) * 1000);
  assert.equal(a[A.baseline], (100 * 10 + 50 * 20) * 1000);
  assert.equal(a[A.saved_routing], a[A.baseline] - a[A.cost]);
  assert.equal(a[A.saved_cache], 0);
  assert.equal(a[A.moved], 1);
  assert.equal(a[A.unpriced], 0);
});

test('a cascade pays every tier and its judge; the baseline prices the delivered answer; overspend is negative', () => {
  const judge = { provider: 'c', model: 'judge' };
  const parts = [{ target: small, usage: u(100, 40) }, { target: judge, usage: u(60, 1) }, { target: big, usage: u(100, 50) }];
  const a = priceRequest(pricing, { baseline: big, answered: big, parts, usage: u(100, 50), hit: false });
  const paid = (100 * 1 + 40 * 2 + 60 * 5 + 1 * 5 + 100 * 10 + 50 * 20) * 1000;
  assert.equal(a[A.cost], paid);
  assert.equal(a[A.baseline], (100 * 10 + 50 * 20) * 1000);
  assert.ok(a[A.saved_routing] < 0, 'escalating cost more than asking the big model directly');
  assert.equal(a[A.prompt_tokens], 260);
  assert.equal(a[A.moved], 0);
});

test('a cache hit costs nothing; it saves the routed price (cache) plus the routing difference', () => {
  const a = priceRequest(pricing, { baseline: big, answered: small, parts: [], usage: u(100, 50), hit: true });
  assert.equal(a[A.cost], 0);
  assert.equal(a[A.saved_cache], 200 * 1000);
  assert.equal(a[A.saved_routing], 2000 * 1000 - 200 * 1000);
  assert.equal(a[A.cache_hits], 1);
  assert.equal(a[A.prompt_tokens], 0, 'no tokens were paid for');
});

test('a model without a price is flagged', () => {
  const a = priceRequest(pricing, { baseline: { provider: 'x', model: 'mystery' }, answered: small, parts: [{ target: small, usage: u(1, 1) }], usage: u(1, 1), hit: false });
  assert.equal(a[A.unpriced], 1);
});

test('baseline: the model asked for, a bare model at its provider, or for an alias the configured baseline or its first target', () => {
  const table: ModelTable = {
    providers: new Map([['c', { supports: new Set() }]]),
    aliases: new Map([['auto', { targets: [{ target: small, weight: 1 }], fallbacks: [] }], ['fast', { targets: [{ target: small, weight: 1 }], fallbacks: [] }]]),
    bareModels: new Map([['big', [big]]]),
    fallbacks: new Map(),
  };
  const cfg = ledgerConfigSchema.parse({ baseline_model: 'c/big', baseline_models: { fast: 'gpt-4o' } });
  assert.deepEqual(baselineTarget('c/small', table, cfg, big), small);
  assert.deepEqual(baselineTarget('big', table, cfg, small), big);
  assert.deepEqual(baselineTarget('auto', table, cfg, small), big);
  assert.deepEqual(baselineTarget('fast', table, cfg, small), { provider: '', model: 'gpt-4o' });
  assert.deepEqual(baselineTarget('auto', table, ledgerConfigSchema.parse({}), big), small, 'no configured baseline: the alias as it resolves without rules');
});

const dims = (key: string, model = 'small'): string[] => DIMENSIONS.map((d) => (d === 'key' ? key : d === 'model' ? model : ''));
const one = (cost: number): number[] => AMOUNTS.map((x) => (x === 'requests' ? 1 : x === 'cost' ? cost : 0));

test('a book keeps at most max rows an hour, then as many with the model folded, then one "other" row (totals exact), and drops hours past retention', () => {
  const book = new HourlyBook(2, 3);
  const t0 = Date.UTC(2026, 0, 1, 10);
  for (let i = 0; i < 6; i++) book.add(t0 + i, dims(`k${i}`), one(10));
  const rows = [...book.rows(t0, t0)];
  assert.equal(rows.length, 5);
  assert.deepEqual(rows.map((r) => [r.row.dims[0], r.row.dims[4]]), [['k0', 'small'], ['k1', 'small'], ['k2', OTHER], ['k3', OTHER], [OTHER, OTHER]]);
  assert.equal(rows.find((r) => r.row.dims[0] === OTHER)?.row.amounts[A.requests], 2);
  assert.equal(rows.reduce((t, r) => t + r.row.amounts[A.cost], 0), 60);
  book.add(t0 + 3 * HOUR_MS, dims('k0'), one(1));
  assert.equal([...book.rows(t0, t0)].length, 0, 'the hour three hours back is gone');
  assert.equal(book.size, 1);
});

test("a caller filling an hour with made-up models folds its own rows; another key's spend keeps its key", async () => {
  const ledger = new Ledger({ config: ledgerConfigSchema.parse({ max_rows_per_hour: 5 }), logger: pino({ level: 'silent' }), prefix: 't:' });
  const t0 = Date.UTC(2026, 0, 1, 10, 30);
  for (let i = 0; i < 50; i++) ledger.record({ at: t0, dims: dims('flood', `made-up-${i}`), amounts: one(1000) });
  for (let i = 0; i < 3; i++) ledger.record({ at: t0, dims: dims('quiet', 'small'), amounts: one(2000) });
  const r = await ledger.report({ from: t0, to: t0 + HOUR_MS, groupBy: ['key'] });
  assert.deepEqual(r.groups.map((g) => [g.key, g.requests]), [['flood', 50], ['quiet', 3]]);
  assert.equal(r.totals.requests, 53);
  await ledger.close();
});

test('reports group, total and bucket by hour; CSV quotes and defuses formulas', async () => {
  const ledger = new Ledger({ config: ledgerConfigSchema.parse({}), logger: pino({ level: 'silent' }), prefix: 't:' });
  const t0 = Date.UTC(2026, 0, 1, 10, 30);
  ledger.record({ at: t0, dims: dims('k1'), amounts: one(1_000_000) });
  ledger.record({ at: t0 + HOUR_MS, dims: dims('k1', 'big'), amounts: one(3_000_000) });
  ledger.record({ at: t0 + HOUR_MS, dims: dims('=cmd|k2'), amounts: one(500_000) });
  ledger.record({ at: t0 + 5 * HOUR_MS, dims: dims('k3'), amounts: one(7) });
  const r = await ledger.report({ from: t0, to: t0 + 2 * HOUR_MS, groupBy: ['key'] });
  assert.equal(r.source, 'memory');
  assert.equal(r.totals.requests, 3);
  assert.equal(r.totals.cost_usd, 0.0045);
  assert.deepEqual(r.groups.map((g) => [g.key, g.requests, g.cost_usd]), [['k1', 2, 0.004], ['=cmd|k2', 1, 0.0005]]);
  assert.deepEqual(r.series.map((p) => p.cost_usd), [0.001, 0.0035]);
  const csv = reportCsv(r).split('\r\n');
  assert.equal(csv[0].split(',')[0], 'key');
  assert.match(csv[2], /^'=cmd\|k2,1,0\.0005,/);
  const flat = reportCsv(buildReport([], { from: 0, to: 1, groupBy: [] }, 'memory')).split('\r\n');
  assert.equal(flat.length, 3, 'header, totals, end');
  await ledger.close();
});

test('a report lists at most `limit` groups, the dearest first; the rest add up in one "other" group, so totals stay exact', () => {
  const t0 = Date.UTC(2026, 0, 1, 10);
  const rows = [5, 1, 4, 2, 3].map((cost, i) => ({ hour: t0, row: { dims: dims(`k${i}`), amounts: one(cost) } }));
  const r = buildReport(rows, { from: t0, to: t0 + HOUR_MS, groupBy: ['key', 'model'], limit: 2 }, 'memory');
  assert.deepEqual(r.groups.map((g) => [g.key, g.model, g.requests, g.cost_usd * 1e9]), [['k0', 'small', 1, 5], ['k2', 'small', 1, 4], [OTHER, OTHER, 3, 6]]);
  assert.equal(r.groups_left_out, 3);
  assert.equal(r.totals.requests, 5);
  const all = buildReport(rows, { from: t0, to: t0 + HOUR_MS, groupBy: ['key'], limit: 5 }, 'memory');
  assert.equal(all.groups.length, 5);
  assert.equal(all.groups_left_out, 0);
});
