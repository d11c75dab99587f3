/**
 * `GET /admin/usage`: spend and savings from the ledger. Mount behind the admin key.
 *   from, to     ISO-8601 instants or ms since the epoch (default: the last 24 hours); hourly resolution
 *   group_by     comma-separated: key, team, customer, provider, model, rule, intent, cache (default: none, totals only)
 *   format       json (default) or csv (also chosen by `Accept: text/csv`)
 *   limit        most groups listed, the dearest first (default 1000, at most 10000); the rest add up in one "other" group
 */
import { Router, type Request, type Response } from 'express';
import { invalidRequest } from '../errors.js';
import { DIMENSIONS, type Dimension } from './entry.js';
import type { Ledger } from './ledger.js';
import { DEFAULT_GROUP_LIMIT, MAX_GROUP_LIMIT, reportCsv } from './report.js';

const DAY_MS = 86_400_000;

function instant(v: unknown, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw invalidRequest(`'${name}' must be given once.`, name);
  const ms = /^\d{1,15}$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw invalidRequest(`'${name}' is neither an ISO-8601 instant nor milliseconds since the epoch: '${v.slice(0, 64)}'.`, name);
  return ms;
}

function groupBy(v: unknown): Dimension[] {
  if (v === undefined || v === '') return [];
  if (typeof v !== 'string') throw invalidRequest("'group_by' must be given once, as a comma-separated list.", 'group_by');
  const out: Dimension[] = [];
  for (const part of v.split(',')) {
    const d = part.trim();
    if (!(DIMENSIONS as readonly string[]).includes(d)) {
      throw invalidRequest(`'group_by' accepts ${DIMENSIONS.join(', ')}; got '${d.slice(0, 64)}'.`, 'group_by');
    }
    if (!out.includes(d as Dimension)) out.push(d as Dimension);
  }
  return out;
}

function groupLimit(v: unknown): number {
  if (v === undefined || v === '') return DEFAULT_GROUP_LIMIT;
  const n = typeof v === 'string' && /^\d{1,6}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_GROUP_LIMIT)) throw invalidRequest(`'limit' is a whole number from 1 to ${MAX_GROUP_LIMIT}.`, 'limit');
  return n;
}

export function usageRouter(ledger: Ledger, now: () => number = Date.now): Router {
  const router = Router();
  router.get('/admin/usage', async function usageReport(req: Request, res: Response): Promise<void> {
    const q = req.query;
    const to = instant(q.to, 'to') ?? now();
    const from = instant(q.from, 'from') ?? to - DAY_MS;
    if (!(from < to)) throw invalidRequest("'from' must be before 'to'.", 'from');
    const format = q.format === undefined ? (req.accepts(['application/json', 'text/csv']) === 'text/csv' ? 'csv' : 'json') : q.format;
    if (format !== 'json' && format !== 'csv') throw invalidRequest("'format' is json or csv.", 'format');
    const report = await ledger.report({ from, to, groupBy: groupBy(q.group_by), limit: groupLimit(q.limit) });
    res.setHeader('cache-control', 'no-store');
    if (format === 'csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.end(reportCsv(report));
      return;
    }
    const horizon = ledger.horizon();
    res.json(from < horizon ? { ...report, warnings: [`data before ${new Date(horizon).toISOString()} is no longer kept (governance.ledger retention)`] } : report);
  });
  return router;
}
