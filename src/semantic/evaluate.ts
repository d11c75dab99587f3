/**
 * Scoring a classifier on labelled rows (label `none` = out of scope must be rejected) and fitting its thresholds.
 * Pure over pre-computed classifications, so a threshold search never re-embeds or re-ranks.
 */
import { NONE_INTENT, type Classification } from './classifier.js';

export interface Scored {
  gold: string;
  /** The classification with rejection disabled (threshold -1, min_margin 0): the ranking winner and its numbers. */
  raw: Classification;
}

export interface Thresholds {
  global: number;
  minMargin: number;
  perCategory: Map<string, number>;
}

export interface EvalReport {
  rows: number;
  inScope: number;
  outOfScope: number;
  /** In-scope rows given their own label (rejected in-scope rows count as wrong). */
  inScopeAccuracy: number;
  /** Out-of-scope rows answered `none`. */
  oosRecall: number;
  /** In-scope rows whose ranking winner is right, ignoring rejection. */
  topAccuracy: number;
  /** The counts behind the two accuracies, so that reports on disjoint row sets (folds) can be pooled exactly. */
  inScopeCorrect: number;
  topCorrect: number;
  perCategory: Array<{ intent: string; precision: number; recall: number; support: number }>;
  confused: Array<{ gold: string; predicted: string; count: number }>;
}

export const accepted = (s: Scored, t: Thresholds): boolean =>
  s.raw.score >= (t.perCategory.get(s.raw.intent) ?? t.global) && s.raw.margin >= t.minMargin;

export const predicted = (s: Scored, t: Thresholds): string => (accepted(s, t) ? s.raw.intent : NONE_INTENT);

export function report(scored: Scored[], t: Thresholds, topConfused = 10): EvalReport {
  let inScope = 0;
  let correct = 0;
  let top = 0;
  let oos = 0;
  let rejected = 0;
  const tp = new Map<string, number>();
  const predCount = new Map<string, number>();
  const support = new Map<string, number>();
  const confused = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const s of scored) {
    const p = predicted(s, t);
    if (p !== NONE_INTENT) inc(predCount, p);
    if (s.gold === NONE_INTENT) {
      oos++;
      if (p === NONE_INTENT) rejected++;
      else inc(confused, `${NONE_INTENT}\u0000${p}`);
      continue;
    }
    inScope++;
    inc(support, s.gold);
    if (s.raw.intent === s.gold) top++;
    if (p === s.gold) {
      correct++;
      inc(tp, s.gold);
    } else inc(confused, `${s.gold}\u0000${p}`);
  }
  const intents = [...new Set([...support.keys(), ...predCount.keys()])].sort();
  return {
    rows: scored.length,
    inScope,
    outOfScope: oos,
    inScopeAccuracy: inScope ? correct / inScope : 0,
    oosRecall: oos ? rejected / oos : 0,
    topAccuracy: inScope ? top / inScope : 0,
    inScopeCorrect: correct,
    topCorrect: top,
    perCategory: intents.map((intent) => ({
      intent,
      precision: (tp.get(intent) ?? 0) / Math.max(1, predCount.get(intent) ?? 0),
      recall: (tp.get(intent) ?? 0) / Math.max(1, support.get(intent) ?? 0),
      support: support.get(intent) ?? 0,
    })),
    confused: [...confused.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topConfused)
      .map(([k, count]) => {
        const [gold, pred] = k.split('\u0000');
        return { gold, predicted: pred, count };
      }),
  };
}

export interface FitOptions {
  /**
   * When set, each category also gets a threshold where its accepted precision against out-of-scope rows stays at or
   * above this. Off by default: with tens of fitting rows per category these thresholds fit single out-of-scope rows and
   * on unseen data only add rejection (CLINC150, 10 references per intent, 20 fitting rows per intent + 100 out-of-scope
   * rows: −0.2 to −0.9 points of in-scope accuracy against the global threshold alone, at 80–87% instead of 76–78%
   * out-of-scope recall, for every precision target from 0.5 to 0.9).
   */
  targetPrecision: number | undefined;
  /** The global settings maximise in-scope accuracy subject to at least this out-of-scope recall. */
  minOosRecall: number;
  /** Pull of per-category thresholds towards the global one, in rows (shrinkage against small samples). */
  shrink: number;
  /** Candidate min_margin values (on the classifier's ranking scale). */
  margins: number[];
}

export const DEFAULT_FIT: FitOptions = {
  targetPrecision: undefined,
  minOosRecall: 0.7,
  shrink: 30,
  margins: [0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3],
};

/** Candidate thresholds: score quantiles (about 200), so the search is fast and not tied to single rows. */
function candidates(scores: number[], n = 200): number[] {
  const sorted = [...scores].sort((a, b) => a - b);
  const out = new Set<number>();
  for (let i = 0; i <= n; i++) out.add(sorted[Math.min(sorted.length - 1, Math.floor((i / n) * (sorted.length - 1)))]);
  return [...out, -1];
}

/** Picks the global threshold and min_margin, then per-category thresholds. */
export function fitThresholds(scored: Scored[], options: Partial<FitOptions> = {}): Thresholds {
  const o = { ...DEFAULT_FIT, ...options };
  const hasOos = scored.some((s) => s.gold === NONE_INTENT);
  let best = { value: -Infinity, global: -1, minMargin: 0 };
  for (const minMargin of o.margins) {
    for (const global of candidates(scored.map((s) => s.raw.score))) {
      const r = report(scored, { global, minMargin, perCategory: new Map() }, 0);
      // Below the recall target, more recall is all that counts; above it, in-scope accuracy.
      const value = !hasOos || r.oosRecall >= o.minOosRecall ? r.inScopeAccuracy : r.oosRecall - 2;
      if (value > best.value + 1e-12) best = { value, global, minMargin };
    }
  }
  const perCategory = new Map<string, number>();
  // Rounded up to 3 decimals: a higher threshold only rejects more, so the recall the search reached still holds.
  const global = Math.ceil(best.global * 1000 - 1e-9) / 1000;
  if (o.targetPrecision === undefined) return { global, minMargin: best.minMargin, perCategory };
  // Per category: accept where the category's precision against out-of-scope rows stays at least the target, i.e. each
  // accepted correct row is worth (1 - p) and each accepted out-of-scope row costs p. A misclassified in-scope row is wrong
  // whether accepted or rejected, so it does not move the threshold. The pick is shrunk towards the global threshold.
  const byIntent = new Map<string, Scored[]>();
  for (const s of scored) {
    if (s.raw.margin < best.minMargin || s.raw.intent === NONE_INTENT) continue;
    const list = byIntent.get(s.raw.intent) ?? [];
    list.push(s);
    byIntent.set(s.raw.intent, list);
  }
  const p = o.targetPrecision;
  for (const [intent, rows] of byIntent) {
    const sorted = rows.sort((a, b) => b.raw.score - a.raw.score);
    let gain = 0;
    let bestGain = 0;
    let raw = sorted[0].raw.score + 1e-6;
    for (const s of sorted) {
      if (s.gold === intent) gain += 1 - p;
      else if (s.gold === NONE_INTENT) gain -= p;
      else continue;
      if (gain > bestGain) {
        bestGain = gain;
        raw = s.raw.score;
      }
    }
    const t = (rows.length * raw + o.shrink * best.global) / (rows.length + o.shrink);
    if (Math.abs(t - best.global) > 0.005) perCategory.set(intent, Math.round(t * 1000) / 1000);
  }
  return { global, minMargin: best.minMargin, perCategory };
}

/** What `fitCrossValidated` found: the thresholds to write and how they fare in and out of sample. */
export interface CrossFit {
  thresholds: Thresholds;
  folds: number;
  /** The out-of-scope recall the written thresholds were fitted for on all rows (the target, raised; see below). */
  fittedFor: number;
  /** The written thresholds on the rows they were fitted on. */
  inSample: Pick<EvalReport, 'inScopeAccuracy' | 'oosRecall'>;
  /** Every row scored by thresholds fitted on the other folds (fitted for `fittedFor`): what unseen rows get. */
  outOfFold: Pick<EvalReport, 'inScopeAccuracy' | 'oosRecall'>;
  /** The global threshold of each fold's fit. */
  foldThresholds: number[];
}

/** Steps by which the recall a fit aims for is raised (at most `RAISE_STEPS` of them) until it holds out of fold. */
export const RAISE_STEP = 0.01;
export const RAISE_STEPS = 10;

/**
 * Thresholds whose out-of-scope recall holds on rows they were not fitted on. A fit for exactly `minOosRecall` sits on
 * the boundary of a noisy estimate (100 out-of-scope rows: about ±4.5 points), so unseen rows fall short of it about half
 * the time and by more on a different sample. Here the rows are split into `folds` stratified folds (round robin over the
 * in-scope and the out-of-scope rows apart); each fold is scored with thresholds fitted on the others, and the recall the
 * fit aims for is raised in RAISE_STEP steps until the out-of-fold recall reaches `minOosRecall`. The thresholds written
 * are then fitted on all rows for that raised recall. Without out-of-scope rows (or with fewer than `folds` of them) this
 * is `fitThresholds`, and the out-of-fold figures are the in-sample ones.
 */
export function fitCrossValidated(scored: Scored[], options: Partial<FitOptions> = {}, folds = 5): CrossFit {
  const o = { ...DEFAULT_FIT, ...options };
  const foldOf = new Int32Array(scored.length);
  let nIn = 0;
  let nOut = 0;
  scored.forEach((s, i) => (foldOf[i] = s.gold === NONE_INTENT ? nOut++ % folds : nIn++ % folds));
  const summary = (r: EvalReport) => ({ inScopeAccuracy: r.inScopeAccuracy, oosRecall: r.oosRecall });
  if (folds < 2 || nOut < folds) {
    const thresholds = fitThresholds(scored, o);
    const r = summary(report(scored, thresholds, 0));
    return { thresholds, folds: 1, fittedFor: o.minOosRecall, inSample: r, outOfFold: r, foldThresholds: [thresholds.global] };
  }
  let last: { target: number; outOfFold: ReturnType<typeof summary>; foldThresholds: number[] } | undefined;
  for (let step = 0; step <= RAISE_STEPS; step++) {
    const target = Math.min(1, Math.round((o.minOosRecall + step * RAISE_STEP) * 1000) / 1000);
    const held: Scored[] = [];
    const heldThresholds: Thresholds[] = [];
    const foldThresholds: number[] = [];
    for (let f = 0; f < folds; f++) {
      const t = fitThresholds(scored.filter((_, i) => foldOf[i] !== f), { ...o, minOosRecall: target });
      foldThresholds.push(t.global);
      scored.forEach((s, i) => {
        if (foldOf[i] !== f) return;
        held.push(s);
        heldThresholds.push(t);
      });
    }
    // Out of fold: each row predicted with its own fold's thresholds.
    const relabelled = held.map((s, i) => ({ gold: s.gold, raw: { ...s.raw, intent: predicted(s, heldThresholds[i]) } }));
    const outOfFold = summary(report(relabelled, { global: -Infinity, minMargin: -Infinity, perCategory: new Map() }, 0));
    last = { target, outOfFold, foldThresholds };
    if (outOfFold.oosRecall >= o.minOosRecall || target >= 1) break;
  }
  const thresholds = fitThresholds(scored, { ...o, minOosRecall: last!.target });
  return {
    thresholds,
    folds,
    fittedFor: last!.target,
    inSample: summary(report(scored, thresholds, 0)),
    outOfFold: last!.outOfFold,
    foldThresholds: last!.foldThresholds,
  };
}
