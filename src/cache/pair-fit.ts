/**
 * Fitting the pair scorer: gradient-boosted regression trees on the logistic loss (second-order leaf values, splits chosen
 * on quantile bins), the choice of the decision cutoff, and an even/odd cross-validation that reports numbers on pairs the
 * model was not fitted on. Deterministic: the same pairs give the same model.
 */
import { PAIR_FEATURES } from './pair-features.js';
import { createPairScorer, type PairModel, type TreeNode } from './pair-scorer.js';

export interface FitOptions {
  trees: number;
  depth: number;
  /** Shrinkage per tree. */
  rate: number;
  /** Fewest training pairs in a leaf. */
  minLeaf: number;
  /** Split candidates per feature. */
  bins: number;
  /** L2 penalty on leaf values. */
  lambda: number;
  /** Pairs below this similarity are left out of training (they never reach the scorer at usual thresholds). */
  floor: number;
  /** The cutoff is the highest one that still serves this share of every file's duplicates. */
  recall: number;
}

export const DEFAULT_FIT: FitOptions = { trees: 50, depth: 3, rate: 0.15, minLeaf: 20, bins: 32, lambda: 1, floor: 0.8, recall: 0.44 };

/** One file of labelled pairs, as feature rows. `eligible`: the pair passes the threshold and the guard's hard rules. */
export interface FitSet {
  name: string;
  rows: Float64Array[];
  labels: boolean[];
  eligible: boolean[];
}

export interface OperatingPoint { precision: number; recall: number; served: number; false_hits: number }

/** Split candidates of one feature: up to `bins` quantiles of its training values. */
function splitCandidates(values: number[], bins: number): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const distinct: number[] = [];
  for (const v of sorted) if (distinct.length === 0 || v !== distinct[distinct.length - 1]) distinct.push(v);
  if (distinct.length <= bins) return distinct.slice(0, -1).map((v, i) => (v + distinct[i + 1]) / 2);
  const out = new Set<number>();
  for (let k = 1; k < bins; k++) out.add(sorted[Math.floor((k * sorted.length) / bins)]);
  out.delete(sorted[sorted.length - 1]);
  return [...out].sort((a, b) => a - b);
}

function binOf(cuts: number[], v: number): number {
  let lo = 0, hi = cuts.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (v > cuts[m]) lo = m + 1; else hi = m; }
  return lo;
}

const round = (x: number): number => Number(x.toPrecision(6));

/** Fits the trees on rows (PAIR_FEATURES order); returns base log-odds and trees indexing PAIR_FEATURES. */
export function fitTrees(rows: Float64Array[], labels: boolean[], o: FitOptions): { base: number; trees: TreeNode[] } {
  const n = rows.length, d = PAIR_FEATURES.length;
  if (n === 0) throw new Error('no training pairs above the similarity floor');
  const positives = labels.filter(Boolean).length;
  if (positives === 0 || positives === n) throw new Error('training pairs need both duplicates and non-duplicates');
  const cuts = Array.from({ length: d }, (_, j) => splitCandidates(rows.map((r) => r[j]), o.bins));
  const bins = rows.map((r) => Uint8Array.from({ length: d }, (_, j) => binOf(cuts[j], r[j])));
  const base = Math.log(positives / (n - positives));
  const f = new Float64Array(n).fill(base);
  const g = new Float64Array(n), h = new Float64Array(n);
  const trees: TreeNode[] = [];
  const grow = (idx: number[], depth: number): TreeNode => {
    let G = 0, H = 0;
    for (const i of idx) { G += g[i]; H += h[i]; }
    const leaf = round(-G / (H + o.lambda));
    if (depth === 0 || idx.length < 2 * o.minLeaf) return leaf;
    const parent = (G * G) / (H + o.lambda);
    let best = 1e-9, bestF = -1, bestB = 0;
    for (let j = 0; j < d; j++) {
      const nb = cuts[j].length + 1;
      if (nb < 2) continue;
      const hg = new Float64Array(nb), hh = new Float64Array(nb), hc = new Int32Array(nb);
      for (const i of idx) { const b = bins[i][j]; hg[b] += g[i]; hh[b] += h[i]; hc[b]++; }
      let gl = 0, hl = 0, cl = 0;
      for (let b = 0; b < nb - 1; b++) {
        gl += hg[b]; hl += hh[b]; cl += hc[b];
        if (cl < o.minLeaf || idx.length - cl < o.minLeaf) continue;
        const gain = (gl * gl) / (hl + o.lambda) + ((G - gl) ** 2) / (H - hl + o.lambda) - parent;
        if (gain > best) { best = gain; bestF = j; bestB = b; }
      }
    }
    if (bestF < 0) return leaf;
    const left: number[] = [], right: number[] = [];
    for (const i of idx) (bins[i][bestF] <= bestB ? left : right).push(i);
    return [bestF, round(cuts[bestF][bestB]), grow(left, depth - 1), grow(right, depth - 1)];
  };
  const all = Array.from({ length: n }, (_, i) => i);
  for (let t = 0; t < o.trees; t++) {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-f[i]));
      g[i] = p - (labels[i] ? 1 : 0);
      h[i] = Math.max(p * (1 - p), 1e-6);
    }
    const tree = grow(all, o.depth);
    trees.push(tree);
    for (let i = 0; i < n; i++) {
      let node = tree;
      while (typeof node !== 'number') node = rows[i][node[0]] <= node[1] ? node[2] : node[3];
      f[i] += o.rate * node;
    }
  }
  return { base: round(base), trees };
}

/** Precision and recall when serving eligible pairs whose probability reaches `cutoff`. */
export function operatingPoint(probs: number[], set: FitSet, cutoff: number): OperatingPoint {
  let tp = 0, fp = 0, positives = 0;
  for (let i = 0; i < probs.length; i++) {
    if (set.labels[i]) positives++;
    if (!set.eligible[i] || probs[i] < cutoff) continue;
    if (set.labels[i]) tp++; else fp++;
  }
  return { precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: positives === 0 ? 0 : tp / positives, served: tp + fp, false_hits: fp };
}

/** The best precision any cutoff reaches while serving at least `recall` of the duplicates (0 when none does). */
export function bestPrecisionAtRecall(probs: number[], set: FitSet, recall: number): number {
  const positives = set.labels.filter(Boolean).length;
  const order = probs.map((_, i) => i).filter((i) => set.eligible[i]).sort((a, b) => probs[b] - probs[a]);
  let tp = 0, fp = 0, best = 0;
  for (let k = 0; k < order.length; k++) {
    if (set.labels[order[k]]) tp++; else fp++;
    if (k + 1 < order.length && probs[order[k + 1]] === probs[order[k]]) continue;
    if (positives > 0 && tp / positives >= recall) best = Math.max(best, tp / (tp + fp));
  }
  return best;
}

/** The highest cutoff that still serves `recall` of every set's duplicates (sets that cannot reach it are ignored). */
export function chooseCutoff(sets: Array<{ probs: number[]; set: FitSet }>, recall: number): number {
  let cutoff = 1;
  for (const { probs, set } of sets) {
    const positives = set.labels.filter(Boolean).length;
    const need = Math.ceil(recall * positives);
    const served = probs.filter((_, i) => set.eligible[i] && set.labels[i]).sort((a, b) => b - a);
    if (need === 0 || served.length < need) continue;
    cutoff = Math.min(cutoff, served[need - 1]);
  }
  return cutoff;
}

const trainingRows = (sets: FitSet[], keep: (i: number) => boolean, floor: number) => {
  const rows: Float64Array[] = [], labels: boolean[] = [];
  for (const s of sets) {
    s.rows.forEach((r, i) => {
      if (keep(i) && r[0] >= floor) { rows.push(r); labels.push(s.labels[i]); }
    });
  }
  return { rows, labels };
};

const subset = (s: FitSet, keep: (i: number) => boolean): FitSet => ({
  name: s.name, rows: s.rows.filter((_, i) => keep(i)), labels: s.labels.filter((_, i) => keep(i)),
  eligible: s.eligible.filter((_, i) => keep(i)),
});

/** The setting a model is fitted for: the similarity threshold and the embedder whose similarities it sees. */
export interface FitContext { threshold: number; dim: number; embedder?: string }

/** Fits a model on the pairs `keep` selects of every set and picks its cutoff on the same pairs. */
export function fitPairModel(sets: FitSet[], o: FitOptions, ctx: FitContext, keep: (i: number) => boolean = () => true): PairModel {
  const { rows, labels } = trainingRows(sets, keep, o.floor);
  const { base, trees } = fitTrees(rows, labels, o);
  const model: PairModel = {
    kind: 'gbdt', version: 1, features: [...PAIR_FEATURES], base, rate: o.rate, trees, cutoff: 1, threshold: ctx.threshold,
    dim: ctx.dim, ...(ctx.embedder !== undefined ? { embedder: ctx.embedder } : {}),
    fitted: { pairs: rows.length, files: sets.map((s) => s.name), ...o },
  };
  const scorer = createPairScorer(model);
  const fitted = sets.map((s) => subset(s, keep)).map((set) => ({ set, probs: set.rows.map((r) => scorer.scoreRow(r)) }));
  // Rounded down: a cutoff rounded up would drop the pairs it was chosen to keep.
  model.cutoff = Math.floor(chooseCutoff(fitted, o.recall) * 1e6) / 1e6;
  return model;
}

export interface FoldReport {
  /** Which lines the model was fitted on; the numbers are on the other lines. */
  fitted_on: 'even' | 'odd';
  cutoff: number;
  sets: Array<{ name: string; at_cutoff: OperatingPoint; best_precision_at_recall: number }>;
}

/** Fit on the even lines of every set, report on the odd lines, and the reverse. */
export function crossValidate(sets: FitSet[], o: FitOptions, ctx: FitContext, reportRecall = 0.4): FoldReport[] {
  return [0, 1].map((h) => {
    const model = fitPairModel(sets, o, ctx, (i) => i % 2 === h);
    const scorer = createPairScorer(model);
    return {
      fitted_on: h === 0 ? 'even' : 'odd',
      cutoff: model.cutoff,
      sets: sets.map((s) => {
        const held = subset(s, (i) => i % 2 !== h);
        const probs = held.rows.map((r) => scorer.scoreRow(r));
        return { name: s.name, at_cutoff: operatingPoint(probs, held, model.cutoff), best_precision_at_recall: bestPrecisionAtRecall(probs, held, reportRecall) };
      }),
    };
  });
}

/** The model as JSON with one tree per line (readable diffs when the shipped weights are refitted). */
export function formatPairModel(model: PairModel): string {
  const { trees, ...rest } = model;
  const head = JSON.stringify(rest, null, 2).replace(/\n}$/, '');
  return `${head},\n  "trees": [\n${trees.map((t) => `    ${JSON.stringify(t)}`).join(',\n')}\n  ]\n}\n`;
}

/** The model as the TypeScript module src/cache/pair-weights.ts. */
export function pairModelModule(model: PairModel, command: string): string {
  return `/**\n * The shipped pair-scorer model: numbers only (split values and leaf weights), fitted on labelled question pairs.\n` +
    ` * Generated by \`${command}\`; refit rather than edit.\n */\n` +
    `import type { PairModel } from './pair-scorer.js';\n\nexport const DEFAULT_PAIR_MODEL: PairModel = ${formatPairModel(model).trimEnd()};\n`;
}
