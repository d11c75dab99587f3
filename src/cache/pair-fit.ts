/**
 * Fitting the pair scorer: gradient-boosted regression trees on the logistic loss (second-order leaf values, splits chosen
 * on quantile bins) fitted on one part of the pairs, the similarity threshold and decision cutoff chosen on another (tune)
 * part, and a rotation over folds that reports every pair once with a model that neither fitted nor tuned on it.
 * Deterministic: the same pairs give the same model.
 */
import { PAIR_FEATURES, VECTOR_SCORE, vectorTerms, type PairVectors } from './pair-features.js';
import { createPairScorer, vectorScore, type PairModel, type TreeNode } from './pair-scorer.js';

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
  /** Pairs below this similarity are left out of training (they never reach the scorer at the thresholds tried). */
  floor: number;
  /** The cutoff is the highest one that still serves this share of every file's duplicates on the tune rows. */
  recall: number;
  /** Similarity thresholds tried on the tune rows; the one with the best precision at `recall` is the model's. */
  thresholds: number[];
  /** Lines are split into this many folds by line number (line i is in fold i mod folds). */
  folds: number;
  /**
   * The vector score: logistic regression on the per-dimension products and absolute differences of the two embeddings
   * (full-batch gradient descent, L2 penalty), fitted on the fit lines; the trees learn from scores cross-fitted on the
   * other half of those lines, so they do not trust it more than it deserves. False: no vector score.
   */
  vector: false | { epochs: number; rate: number; l2: number };
}

export const DEFAULT_FIT: FitOptions = {
  trees: 50, depth: 3, rate: 0.15, minLeaf: 20, bins: 32, lambda: 1, floor: 0.8, recall: 0.41, thresholds: [0.83, 0.85, 0.87, 0.89], folds: 5,
  vector: { epochs: 200, rate: 1, l2: 0.003 },
};

/** One file of labelled pairs, as feature rows (similarity first). `ruleOk`: no hard rule of the guard rejects the pair. */
export interface FitSet {
  name: string;
  rows: Float64Array[];
  labels: boolean[];
  ruleOk: boolean[];
  /** The pairs' embeddings (query, cached); without them no vector score is fitted. */
  vectors?: PairVectors[];
}

export interface OperatingPoint { precision: number; recall: number; served: number; false_hits: number }

/** A decision: serve a pair the rules let through when its similarity reaches `threshold` and its probability `cutoff`. */
export interface Setting { threshold: number; cutoff: number }

/** Split candidates of one feature: up to `bins` quantiles of its training values (a feature unknown anywhere: none). */
function splitCandidates(values: number[], bins: number): number[] {
  if (!values.every(Number.isFinite)) return [];
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

const servedAt = (probs: number[], set: FitSet, i: number, s: Setting): boolean =>
  set.ruleOk[i] && set.rows[i][0] >= s.threshold && probs[i] >= s.cutoff;

/** Precision and recall when serving the pairs the setting lets through. */
export function operatingPoint(probs: number[], set: FitSet, s: Setting): OperatingPoint {
  let tp = 0, fp = 0, positives = 0;
  for (let i = 0; i < probs.length; i++) {
    if (set.labels[i]) positives++;
    if (!servedAt(probs, set, i, s)) continue;
    if (set.labels[i]) tp++; else fp++;
  }
  return { precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: positives === 0 ? 0 : tp / positives, served: tp + fp, false_hits: fp };
}

/** The highest cutoff that still serves `recall` of every set's duplicates at `threshold` (sets that cannot reach it are ignored). */
export function chooseCutoff(sets: Array<{ probs: number[]; set: FitSet }>, recall: number, threshold: number): number {
  let cutoff = 1;
  for (const { probs, set } of sets) {
    const positives = set.labels.filter(Boolean).length;
    const need = Math.ceil(recall * positives);
    const served = probs.filter((_, i) => set.ruleOk[i] && set.rows[i][0] >= threshold && set.labels[i]).sort((a, b) => b - a);
    if (need === 0 || served.length < need) continue;
    cutoff = Math.min(cutoff, served[need - 1]);
  }
  // Rounded down: a cutoff rounded up would drop the pairs it was chosen to keep.
  return Math.floor(cutoff * 1e6) / 1e6;
}

/**
 * The setting chosen on tune rows: for each threshold the cutoff that keeps `recall` of every set's duplicates, and of
 * those the one with the best precision over all the sets' rows together (ties: the lower threshold).
 */
export function chooseSetting(tuned: Array<{ probs: number[]; set: FitSet }>, recall: number, thresholds: readonly number[]): Setting {
  let best: (Setting & { precision: number }) | undefined;
  for (const threshold of [...thresholds].sort((a, b) => a - b)) {
    const cutoff = chooseCutoff(tuned, recall, threshold);
    let tp = 0, fp = 0;
    for (const { probs, set } of tuned) {
      const p = operatingPoint(probs, set, { threshold, cutoff });
      tp += p.served - p.false_hits; fp += p.false_hits;
    }
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    if (best === undefined || precision > best.precision) best = { threshold, cutoff, precision };
  }
  if (best === undefined) throw new Error('no similarity threshold to choose from');
  return { threshold: best.threshold, cutoff: best.cutoff };
}

const subset = (s: FitSet, keep: (i: number) => boolean): FitSet => ({
  name: s.name, rows: s.rows.filter((_, i) => keep(i)), labels: s.labels.filter((_, i) => keep(i)),
  ruleOk: s.ruleOk.filter((_, i) => keep(i)), ...(s.vectors ? { vectors: s.vectors.filter((_, i) => keep(i)) } : {}),
});

/** Input scales of the vector regression (products of unit vectors are small): folded into the stored weights. */
const PRODUCT_SCALE = 20, DIFF_SCALE = 5;

/** Fits the vector score's weights on the pairs (logistic loss, L2 penalty, full-batch gradient descent). */
export function fitVectorScore(vectors: PairVectors[], labels: boolean[], o: { epochs: number; rate: number; l2: number }): NonNullable<PairModel['vector']> {
  const n = vectors.length;
  if (n === 0) throw new Error('no pairs to fit the vector score on');
  const dim = vectors[0].query.length, d = 2 * dim;
  const x = new Float32Array(n * d);
  const terms = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    vectorTerms(vectors[i], terms);
    for (let j = 0; j < d; j++) x[i * d + j] = terms[j] * (j < dim ? PRODUCT_SCALE : DIFF_SCALE);
  }
  const w = new Float64Array(d), g = new Float64Array(d);
  let b = 0;
  for (let e = 0; e < o.epochs; e++) {
    g.fill(0);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const at = i * d;
      let z = b;
      for (let j = 0; j < d; j++) z += w[j] * x[at + j];
      const r = 1 / (1 + Math.exp(-z)) - (labels[i] ? 1 : 0);
      for (let j = 0; j < d; j++) g[j] += r * x[at + j];
      gb += r;
    }
    for (let j = 0; j < d; j++) w[j] -= o.rate * (g[j] / n + o.l2 * w[j]);
    b -= o.rate * (gb / n);
  }
  return { bias: round(b), weights: Array.from(w, (v, j) => round(v * (j < dim ? PRODUCT_SCALE : DIFF_SCALE))) };
}

/** The set's rows (copies) with the vector score filled in by `score` (row index -> value). */
const withVectorScore = (s: FitSet, score: (i: number) => number): Float64Array[] =>
  s.rows.map((r, i) => { const c = Float64Array.from(r); c[VECTOR_SCORE] = score(i); return c; });

/** The set as a model sees it: its vector score filled in from the model's weights (NaN without them). */
export function scoredBy(s: FitSet, model: PairModel): FitSet {
  const v = model.vector, vectors = s.vectors;
  return { ...s, rows: withVectorScore(s, (i) => (v && vectors ? vectorScore(v, vectors[i]) : NaN)) };
}

/** The embedder a model is fitted for (its similarities are what the model sees). */
export interface FitContext { dim: number; embedder?: string }

/** Which lines of every file fit the trees and which choose the threshold and cutoff (line numbers from 0). */
export interface FitSplit { fit: (line: number) => boolean; tune: (line: number) => boolean; describe: string }

/** The split of the shipped model: trees on every fold but the last, threshold and cutoff on the last. */
export const shippedSplit = (folds: number): FitSplit => ({
  fit: (i) => i % folds !== folds - 1, tune: (i) => i % folds === folds - 1,
  describe: `trees fitted on lines i mod ${folds} != ${folds - 1}, threshold and cutoff chosen on lines i mod ${folds} = ${folds - 1}`,
});

/** Fits a model's trees on the split's fit lines of every set and chooses its threshold and cutoff on its tune lines. */
export function fitPairModel(sets: FitSet[], o: FitOptions, ctx: FitContext, split: FitSplit = shippedSplit(o.folds)): PairModel {
  const fitLines = sets.map((s) => s.rows.map((r, i) => split.fit(i) && r[0] >= o.floor));
  // The vector score: weights from every fit line; the trees see, for each fit line, the score of weights fitted on the
  // other half of the fit lines (cross-fitting).
  let vector: PairModel['vector'];
  let rowsFor = sets.map((s) => s.rows);
  if (o.vector !== false && sets.every((s) => s.vectors !== undefined)) {
    const picked = sets.flatMap((s, k) => s.rows.map((_, i) => [k, i] as const).filter(([, i]) => fitLines[k][i]));
    const fitOn = (part: ReadonlyArray<readonly [number, number]>) =>
      fitVectorScore(part.map(([k, i]) => sets[k].vectors![i]), part.map(([k, i]) => sets[k].labels[i]), o.vector as Exclude<FitOptions['vector'], false>);
    vector = fitOn(picked);
    const halves = [fitOn(picked.filter((_, j) => j % 2 === 1)), fitOn(picked.filter((_, j) => j % 2 === 0))];
    const half = new Map<string, number>(picked.map(([k, i], j) => [`${k}:${i}`, j % 2]));
    rowsFor = sets.map((s, k) => withVectorScore(s, (i) => {
      const h = half.get(`${k}:${i}`);
      return vectorScore(h === undefined ? vector! : halves[h], s.vectors![i]);
    }));
  }
  const rows: Float64Array[] = [], labels: boolean[] = [];
  sets.forEach((s, k) => rowsFor[k].forEach((r, i) => { if (fitLines[k][i]) { rows.push(r); labels.push(s.labels[i]); } }));
  const { base, trees } = fitTrees(rows, labels, o);
  const model: PairModel = {
    kind: 'gbdt', version: 1, features: [...PAIR_FEATURES], base, rate: o.rate, trees, ...(vector ? { vector } : {}), cutoff: 1,
    threshold: o.thresholds[0], dim: ctx.dim, ...(ctx.embedder !== undefined ? { embedder: ctx.embedder } : {}),
    fitted: { pairs: rows.length, files: sets.map((s) => s.name), split: split.describe, ...o },
  };
  const scorer = createPairScorer(model);
  const tuned = sets.map((s, k) => subset({ ...s, rows: rowsFor[k] }, split.tune)).map((set) => ({ set, probs: set.rows.map((r) => scorer.scoreRow(r)) }));
  const setting = chooseSetting(tuned, o.recall, o.thresholds);
  model.threshold = setting.threshold;
  model.cutoff = setting.cutoff;
  return model;
}

export interface FoldReport {
  /** The fold whose lines are reported; the model's threshold and cutoff were chosen on `tuned_on`, its trees on the rest. */
  reported: number;
  tuned_on: number;
  threshold: number;
  cutoff: number;
  sets: Array<{ name: string; point: OperatingPoint }>;
}

export interface SplitReport {
  folds: FoldReport[];
  /** Every line reported once, by the model of its fold: counts summed over the folds. */
  pooled: Array<{ name: string; point: OperatingPoint }>;
}

/**
 * Out-of-sample report by rotation: for each fold r, trees fitted on the folds other than r and r + 1, threshold and cutoff
 * chosen on fold r + 1, numbers on fold r. No reported line was fitted or tuned on by the model that reports it.
 */
export function rotate(sets: FitSet[], o: FitOptions, ctx: FitContext): SplitReport {
  const K = o.folds;
  if (!Number.isInteger(K) || K < 3) throw new Error('the report needs at least 3 folds (fit, tune, report)');
  const folds = Array.from({ length: K }, (_, r): FoldReport => {
    const t = (r + 1) % K;
    const model = fitPairModel(sets, o, ctx, { fit: (i) => i % K !== r && i % K !== t, tune: (i) => i % K === t, describe: `fold ${r}` });
    const scorer = createPairScorer(model);
    return {
      reported: r, tuned_on: t, threshold: model.threshold, cutoff: model.cutoff,
      sets: sets.map((s) => {
        const held = scoredBy(subset(s, (i) => i % K === r), model);
        return { name: s.name, point: operatingPoint(held.rows.map((x) => scorer.scoreRow(x)), held, model) };
      }),
    };
  });
  const pooled = sets.map((s, k) => {
    let tp = 0, fp = 0;
    for (const f of folds) { const p = f.sets[k].point; tp += p.served - p.false_hits; fp += p.false_hits; }
    const positives = s.labels.filter(Boolean).length;
    return { name: s.name, point: { precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: positives === 0 ? 0 : tp / positives, served: tp + fp, false_hits: fp } };
  });
  return { folds, pooled };
}

/** The model as JSON with one tree per line and the vector weights 16 to a line (readable diffs when refitted). */
export function formatPairModel(model: PairModel): string {
  const { trees, vector, ...rest } = model;
  const head = JSON.stringify(rest, null, 2).replace(/\n}$/, '');
  const rows: string[] = [];
  for (let i = 0; vector !== undefined && i < vector.weights.length; i += 16) rows.push(`      ${vector.weights.slice(i, i + 16).map((w) => JSON.stringify(w)).join(', ')}`);
  const vec = vector === undefined ? '' : `,\n  "vector": {\n    "bias": ${JSON.stringify(vector.bias)},\n    "weights": [\n${rows.join(',\n')}\n    ]\n  }`;
  return `${head}${vec},\n  "trees": [\n${trees.map((t) => `    ${JSON.stringify(t)}`).join(',\n')}\n  ]\n}\n`;
}

/** The model as the TypeScript module src/cache/pair-weights.ts. */
export function pairModelModule(model: PairModel, command: string): string {
  return `/**\n * The shipped pair-scorer model: numbers only (split values and leaf weights), fitted on labelled question pairs.\n` +
    ` * Generated by \`${command}\`; refit rather than edit.\n */\n` +
    `import type { PairModel } from './pair-scorer.js';\n\nexport const DEFAULT_PAIR_MODEL: PairModel = ${formatPairModel(model).trimEnd()};\n`;
}
