/**
 * Bounded label values and cheap recording for Prometheus metrics.
 *  - Each label keeps at most `cap` distinct values (later newcomers become "other", which takes no place of its own);
 *    empty values become "none".
 *  - Label children are resolved once per distinct value tuple and cached by that tuple.
 *  - Counters and histograms accumulate in plain cells on the hot path (a few Map lookups and adds, no strings built);
 *    counters are added to their prom-client counter when it is collected and histograms are exported in prom-client's
 *    histogram shape, so scrapes stay exact and formatting stays prom-client's.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export const OTHER = 'other';
export const NONE = 'none';
const MAX_VALUE_CHARS = 120;
/** Bound on cached raw value tuples per metric; values are capped, so past this only aliases of capped values pile up. */
const RAW_KEYS = 10_000;

/** The distinct values one label has taken, capped. */
export class LabelValues {
  private readonly seen = new Set<string>();

  constructor(private readonly cap: number) {}

  of(value: string | undefined): string {
    if (value === undefined || value === '') return NONE;
    if (this.seen.has(value) || value === OTHER) return value;
    if (this.seen.size >= this.cap) return OTHER;
    const v = value.length > MAX_VALUE_CHARS ? value.slice(0, MAX_VALUE_CHARS) : value;
    this.seen.add(v);
    if (v !== value) this.seen.add(value); // later lookups of the long form hit the fast path
    return v;
  }
}

/** Per-label caps shared by every metric that uses the same label name. */
export class LabelSpace {
  private readonly byName = new Map<string, LabelValues>();

  constructor(private readonly cap: number) {}

  label(name: string): LabelValues {
    let l = this.byName.get(name);
    if (l === undefined) {
      l = new LabelValues(this.cap);
      this.byName.set(name, l);
    }
    return l;
  }
}

/**
 * Label-value tuple → leaf, as a tree of Maps keyed by each raw value in turn: no key string is built per lookup. Cleared
 * when it holds RAW_KEYS leaves (values are capped, so only aliases of capped values can pile up).
 */
class TupleMap<T> {
  private root = new Map<string, unknown>();
  private leaves = 0;

  get(values: ReadonlyArray<string | undefined>, make: () => T): T {
    let node = this.root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      const v = values[i] ?? '';
      let next = node.get(v) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(v, next);
      }
      node = next;
    }
    const v = last < 0 ? '' : (values[last] ?? '');
    let leaf = node.get(v) as T | undefined;
    if (leaf === undefined) {
      leaf = make();
      if (this.leaves >= RAW_KEYS) {
        // Start over; `make` hands back the same capped cell, so nothing recorded is lost.
        this.root = new Map();
        this.leaves = 0;
        return leaf;
      }
      this.leaves++;
      node.set(v, leaf);
    }
    return leaf;
  }
}

/** Shared by the deferred metrics: raw tuples are capped once, and tuples that cap alike share one cell. */
class Cells<C> {
  private readonly raw = new TupleMap<C>();
  private readonly capped = new Map<string, C>();
  private readonly caps: LabelValues[];

  constructor(private readonly labelNames: readonly string[], space: LabelSpace, private readonly make: (labels: Record<string, string>) => C) {
    this.caps = labelNames.map((n) => space.label(n));
  }

  get(values: ReadonlyArray<string | undefined>): C {
    return this.raw.get(values, () => {
      const capped = values.map((v, i) => this.caps[i].of(v));
      const key = capped.join('\u0001');
      let cell = this.capped.get(key);
      if (cell === undefined) {
        const labels: Record<string, string> = {};
        this.labelNames.forEach((l, i) => { labels[l] = capped[i]; });
        cell = this.make(labels);
        this.capped.set(key, cell);
      }
      return cell;
    });
  }

  all(): IterableIterator<C> {
    return this.capped.values();
  }
}

interface CounterCell {
  labels: Record<string, string>;
  pending: number;
}

/** A counter whose increments accumulate in cells and reach prom-client when it is collected (at every scrape). */
export class DeferredCounter {
  private readonly cells: Cells<CounterCell>;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], space: LabelSpace) {
    const cells = (this.cells = new Cells<CounterCell>(labelNames, space, (labels) => ({ labels, pending: 0 })));
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const cell of cells.all()) {
          if (cell.pending > 0) {
            this.inc(cell.labels, cell.pending);
            cell.pending = 0;
          }
        }
      },
    });
  }

  inc(values: ReadonlyArray<string | undefined>, n = 1): void {
    this.cells.get(values).pending += n;
  }
}

interface HistogramCell {
  labels: Record<string, string>;
  /** Per bucket (the last is +Inf), not cumulative. */
  counts: Float64Array;
  sum: number;
  count: number;
}

type Exported = Awaited<ReturnType<Histogram<string>['get']>>;

/**
 * A histogram that buckets observations into plain cells (a short linear scan and three adds) and exports them in
 * prom-client's histogram shape when the registry reads it.
 */
export class DeferredHistogram {
  private readonly cells: Cells<HistogramCell>;
  private readonly bounds: Float64Array;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], buckets: readonly number[], space: LabelSpace) {
    const bounds = (this.bounds = Float64Array.from([...buckets].sort((a, b) => a - b)));
    const cells = (this.cells = new Cells<HistogramCell>(labelNames, space, (labels) => ({ labels, counts: new Float64Array(bounds.length + 1), sum: 0, count: 0 })));
    const exported = async (): Promise<Exported> => {
      const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
      for (const c of cells.all()) {
        let acc = 0;
        for (let i = 0; i < bounds.length; i++) {
          acc += c.counts[i];
          values.push({ labels: { ...c.labels, le: bounds[i] }, value: acc, metricName: `${name}_bucket` });
        }
        values.push({ labels: { ...c.labels, le: '+Inf' }, value: c.count, metricName: `${name}_bucket` });
        values.push({ labels: c.labels, value: c.sum, metricName: `${name}_sum` });
        values.push({ labels: c.labels, value: c.count, metricName: `${name}_count` });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' } as unknown as Exported;
    };
    const h = new Histogram({ name, help, labelNames, buckets: [...bounds], registers: [registry] }) as Histogram<string> & { getForPromString?: unknown };
    h.get = exported;
    h.getForPromString = exported;
  }

  observe(values: ReadonlyArray<string | undefined>, v: number): void {
    if (!Number.isFinite(v)) return;
    const c = this.cells.get(values);
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    c.counts[i]++;
    c.sum += v;
    c.count++;
  }
}
