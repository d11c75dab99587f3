/** Ledger rows → the usage report (totals, groups, hourly series) and its CSV form. Pure. */
import { A, AMOUNTS, DIMENSIONS, type Dimension } from './entry.js';
import { OTHER, type Row } from './book.js';

export interface UsageQuery {
  /** Inclusive start and exclusive end, ms since the epoch; buckets are hourly, so an hour that overlaps the range counts whole. */
  from: number;
  to: number;
  groupBy: readonly Dimension[];
  /**
   * Most groups listed (the dearest first; default DEFAULT_GROUP_LIMIT); the rest are added up in one group whose
   * dimensions read "other".
   */
  limit?: number;
}

/** Groups a report lists unless asked otherwise, and the most it lists. */
export const DEFAULT_GROUP_LIMIT = 1000;
export const MAX_GROUP_LIMIT = 10_000;

export interface Figures {
  requests: number;
  cost_usd: number;
  baseline_usd: number;
  saved_usd: number;
  saved_routing_usd: number;
  saved_cache_usd: number;
  /** saved / baseline, in percent (0 when the baseline cost nothing). */
  saved_pct: number;
  prompt_tokens: number;
  completion_tokens: number;
  cache_hits: number;
  /** Requests answered by another model than the baseline. */
  moved: number;
  moved_pct: number;
  /** Requests where some model had no price (governance.unknown_model_price was used). */
  unpriced_requests: number;
}

export type Group = Partial<Record<Dimension, string>> & Figures;

export interface UsageReport {
  object: 'usage';
  from: string;
  to: string;
  resolution: 'hour';
  /** `redis`: every instance; `memory`: this instance only (no Redis, or Redis could not be read). */
  source: 'redis' | 'memory';
  group_by: Dimension[];
  totals: Figures;
  groups: Group[];
  /** Groups added up into the last, "other" group because of the query's limit (0 when every group is listed). */
  groups_left_out: number;
  series: Array<{ t: string; requests: number; cost_usd: number; saved_usd: number }>;
}

const usd = (nanos: number): number => nanos / 1e9;
const pct = (part: number, whole: number): number => (whole > 0 ? Math.round((part / whole) * 10_000) / 100 : 0);

export function figures(a: readonly number[]): Figures {
  const saved = a[A.saved_routing] + a[A.saved_cache];
  return {
    requests: a[A.requests],
    cost_usd: usd(a[A.cost]),
    baseline_usd: usd(a[A.baseline]),
    saved_usd: usd(saved),
    saved_routing_usd: usd(a[A.saved_routing]),
    saved_cache_usd: usd(a[A.saved_cache]),
    saved_pct: pct(saved, a[A.baseline]),
    prompt_tokens: a[A.prompt_tokens],
    completion_tokens: a[A.completion_tokens],
    cache_hits: a[A.cache_hits],
    moved: a[A.moved],
    moved_pct: pct(a[A.moved], a[A.requests]),
    unpriced_requests: a[A.unpriced],
  };
}

const zeros = (): number[] => new Array<number>(AMOUNTS.length).fill(0);
const addInto = (into: number[], a: readonly number[]): void => {
  for (let i = 0; i < into.length; i++) into[i] += a[i];
};

export function buildReport(rows: Iterable<{ hour: number; row: Row }>, q: UsageQuery, source: UsageReport['source']): UsageReport {
  const idx = q.groupBy.map((d) => DIMENSIONS.indexOf(d));
  const total = zeros();
  const groups = new Map<string, { dims: string[]; a: number[] }>();
  const series = new Map<number, number[]>();
  for (const { hour, row } of rows) {
    addInto(total, row.amounts);
    const dims = idx.map((i) => row.dims[i]);
    const gid = JSON.stringify(dims);
    let g = groups.get(gid);
    if (g === undefined) groups.set(gid, (g = { dims, a: zeros() }));
    addInto(g.a, row.amounts);
    let s = series.get(hour);
    if (s === undefined) series.set(hour, (s = zeros()));
    addInto(s, row.amounts);
  }
  const sorted = q.groupBy.length === 0 ? [] : [...groups.values()].sort((x, y) => y.a[A.cost] - x.a[A.cost] || y.a[A.requests] - x.a[A.requests]);
  const limit = q.limit ?? DEFAULT_GROUP_LIMIT;
  const listed = sorted.slice(0, limit);
  const leftOut = sorted.length - listed.length;
  if (leftOut > 0) {
    const other = { dims: q.groupBy.map(() => OTHER), a: zeros() };
    for (let i = limit; i < sorted.length; i++) addInto(other.a, sorted[i]!.a);
    listed.push(other);
  }
  return {
    object: 'usage',
    from: new Date(q.from).toISOString(),
    to: new Date(q.to).toISOString(),
    resolution: 'hour',
    source,
    group_by: [...q.groupBy],
    totals: figures(total),
    groups: listed.map((g) => ({ ...Object.fromEntries(q.groupBy.map((d, i) => [d, g.dims[i]])), ...figures(g.a) })),
    groups_left_out: leftOut,
    series: [...series.entries()].sort((x, y) => x[0] - y[0]).map(([t, a]) => ({
      t: new Date(t).toISOString(), requests: a[A.requests], cost_usd: usd(a[A.cost]), saved_usd: usd(a[A.saved_routing] + a[A.saved_cache]),
    })),
  };
}

const FIGURES: ReadonlyArray<keyof Figures> = [
  'requests', 'cost_usd', 'baseline_usd', 'saved_usd', 'saved_routing_usd', 'saved_cache_usd', 'saved_pct', 'prompt_tokens',
  'completion_tokens', 'cache_hits', 'moved', 'moved_pct', 'unpriced_requests',
];

/** RFC 4180: quoted when needed; a leading = + - @ is prefixed with ' so spreadsheets do not run it as a formula. */
function cell(v: string | number): string {
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line per group (or one line of totals without grouping), header first. */
export function reportCsv(r: UsageReport): string {
  const head = [...r.group_by, ...FIGURES];
  const lines = [head.join(',')];
  const body: Group[] = r.group_by.length === 0 ? [r.totals] : r.groups;
  for (const g of body) lines.push([...r.group_by.map((d) => cell(g[d] ?? '')), ...FIGURES.map((f) => cell(g[f]))].join(','));
  return `${lines.join('\r\n')}\r\n`;
}
