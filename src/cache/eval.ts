/**
 * Precision and recall of the semantic layer on labelled question pairs: `a` is the cached question, `b` the new one, and a
 * pair counts as served when the similarity reaches the threshold and the false-hit guard lets it through — exactly the test
 * a lookup applies to a candidate.
 */
import { extractFeatures, guardVerdict, ruleVerdict, type GuardCheck, type GuardOptions, type QuestionFeatures } from './guard.js';
import { pairFeatures, type PairVectors } from './pair-features.js';
import type { FitSet } from './pair-fit.js';
import type { PairScorer } from './pair-scorer.js';

export interface LabelledPair { a: string; b: string; duplicate: boolean }

export interface ScoredPair {
  duplicate: boolean;
  similarity: number;
  a: QuestionFeatures;
  b: QuestionFeatures;
  /** The embeddings, as the cache passes them to the guard: `query` is b's, `cached` a's. */
  vectors: PairVectors;
}

export interface PrecisionRecall {
  threshold: number;
  precision: number;
  recall: number;
  served: number;
  true_hits: number;
  false_hits: number;
  /** Pairs above the threshold the guard rejected, by check. */
  rejected: Partial<Record<GuardCheck, number>>;
}

export function parsePairs(text: string, file: string): LabelledPair[] {
  const out: LabelledPair[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try { row = JSON.parse(line); } catch { throw new Error(`${file}:${i + 1}: not valid JSON`); }
    const r = row as Partial<LabelledPair>;
    if (typeof r.a !== 'string' || typeof r.b !== 'string' || typeof r.duplicate !== 'boolean') {
      throw new Error(`${file}:${i + 1}: expected {"a": string, "b": string, "duplicate": boolean}`);
    }
    out.push({ a: r.a, b: r.b, duplicate: r.duplicate });
  });
  return out;
}

/** Scores pairs given unit vectors of every a and b. */
export function scorePairs(pairs: LabelledPair[], va: Float32Array[], vb: Float32Array[]): ScoredPair[] {
  return pairs.map((p, i) => {
    let s = 0;
    const x = va[i], y = vb[i];
    for (let j = 0; j < x.length; j++) s += x[j] * y[j];
    return { duplicate: p.duplicate, similarity: s, a: extractFeatures(p.a), b: extractFeatures(p.b), vectors: { query: y, cached: x } };
  });
}

/** `scorer` is the model the guard uses when `guard.scorer` is on (the shipped one when omitted). */
export function evaluate(scored: readonly ScoredPair[], threshold: number, guard: GuardOptions, scorer?: PairScorer): PrecisionRecall {
  let tp = 0, fp = 0, positives = 0;
  const rejected: Partial<Record<GuardCheck, number>> = {};
  for (const p of scored) {
    if (p.duplicate) positives++;
    if (p.similarity < threshold) continue;
    const check = guardVerdict(p.b, p.a, guard, p.similarity, threshold, scorer, p.vectors);
    if (check !== undefined) { rejected[check] = (rejected[check] ?? 0) + 1; continue; }
    if (p.duplicate) tp++; else fp++;
  }
  return {
    threshold, precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: positives === 0 ? 0 : tp / positives,
    served: tp + fp, true_hits: tp, false_hits: fp, rejected,
  };
}

/**
 * The pairs as scorer training data: feature rows (query = b, cached = a) and whether the guard's hard rules let each pair
 * through, so the fitted threshold and cutoff account for what the rules reject.
 */
export function toFitSet(name: string, scored: readonly ScoredPair[], guard: GuardOptions): FitSet {
  const rules = { ...guard, enabled: true };
  return {
    name,
    rows: scored.map((p) => pairFeatures(p.b, p.a, p.similarity, undefined, p.vectors)),
    vectors: scored.map((p) => p.vectors),
    labels: scored.map((p) => p.duplicate),
    ruleOk: scored.map((p) => !guard.enabled || ruleVerdict(p.b, p.a, rules) === undefined),
  };
}
