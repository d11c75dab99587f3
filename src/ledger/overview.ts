/** The dashboard's spend panel: the last 24 hours' spend and savings per hour, and savings by routing rule. */
import { HOUR_MS, hourOf } from './book.js';
import type { Ledger } from './ledger.js';
import type { Figures } from './report.js';

export interface SpendOverview {
  source: 'redis' | 'memory';
  totals: Figures;
  /** One point per hour, oldest first, hours without traffic included as zeros. */
  series: Array<{ t: string; requests: number; cost_usd: number; saved_usd: number }>;
  /** Rules by savings, largest first; requests no rule moved are under `rule: ''`. */
  by_rule: Array<{ rule: string; requests: number; moved_pct: number; cost_usd: number; saved_usd: number }>;
}

const HOURS = 24;

export async function spendOverview(ledger: Ledger, now = Date.now()): Promise<SpendOverview> {
  const first = hourOf(now) - (HOURS - 1) * HOUR_MS;
  const r = await ledger.report({ from: first, to: now + 1, groupBy: ['rule'] });
  const byHour = new Map(r.series.map((p) => [p.t, p]));
  const series: SpendOverview['series'] = [];
  for (let h = first; h <= hourOf(now); h += HOUR_MS) {
    const t = new Date(h).toISOString();
    series.push(byHour.get(t) ?? { t, requests: 0, cost_usd: 0, saved_usd: 0 });
  }
  const by_rule = r.groups
    .map((g) => ({ rule: g.rule ?? '', requests: g.requests, moved_pct: g.moved_pct, cost_usd: g.cost_usd, saved_usd: g.saved_usd }))
    .sort((a, b) => b.saved_usd - a.saved_usd);
  return { source: r.source, totals: r.totals, series, by_rule };
}
