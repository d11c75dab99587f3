/**
 * Per-category rejection thresholds from the reference prompts themselves, no out-of-scope data needed. The references
 * are split into K folds (round robin within each category); for each fold a head is trained on the other folds exactly
 * as the real one is, and every held-out reference is scored on its own category. Those out-of-sample scores are what an
 * unseen in-scope request of the category looks like, so their lower `quantile` (a split-conformal bound) is a threshold
 * that rejects about that share of the category's in-scope requests. A broad category (a task type: code, math, chit
 * chat) whose requests share little wording scores low and gets a low threshold; a narrow intent keeps the global one.
 */
import { LexicalFeaturizer } from './lexical.js';
import { linearScores, trainLinearHead, type TrainOptions } from './linear-head.js';

export interface CalibrationOptions {
  /** Folds of the cross-fit (each fold trains one head on the others). */
  folds: number;
  /** Share of a category's in-scope requests the calibrated threshold may reject. */
  quantile: number;
}

/**
 * Five folds (each held-out head sees 80% of the references: the usual bias/cost trade of cross-fitting, not fitted). The
 * quantile default is `classifier.calibration_quantile` (config.ts), chosen on tuning data as documented there.
 */
export const DEFAULT_CALIBRATION: CalibrationOptions = { folds: 5, quantile: 0.02 };

export interface CrossFitInput {
  refs: Float32Array[];
  labelOf: Int32Array;
  classes: number;
  dim: number;
  /** Reference texts (one per ref) when the head has a lexical part. */
  texts: string[] | undefined;
  train: TrainOptions;
  startWeights: Float32Array | undefined;
  /** Per-reference loss weights of the real head (classBalanceWeights over all references). */
  lossWeights?: Float32Array;
  /** Turns a category's logit into its acceptance score (the classifier's `headScore`). */
  score: (logit: number) => number;
}

/** Out-of-sample in-category scores of each category's references (empty for a category with fewer than 2). */
export async function crossFitScores(input: CrossFitInput, folds = DEFAULT_CALIBRATION.folds): Promise<number[][]> {
  const { refs, labelOf, classes, dim, texts, train, startWeights, lossWeights, score } = input;
  const rank = new Int32Array(refs.length);
  const seen = new Int32Array(classes);
  const size = new Int32Array(classes);
  labelOf.forEach((c) => size[c]++);
  labelOf.forEach((c, i) => (rank[i] = seen[c]++));
  const foldOf = (i: number): number => rank[i] % folds;
  const out: number[][] = Array.from({ length: classes }, () => []);
  const logits = new Float32Array(classes);
  for (let f = 0; f < Math.min(folds, Math.max(...size)); f++) {
    const kept: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < refs.length; i++) {
      if (foldOf(i) !== f) kept.push(i);
      // A category whose every reference is held out would have nothing to learn from: it is not scored.
      else if (size[labelOf[i]] >= 2) held.push(i);
    }
    if (held.length === 0) continue;
    const featurizer = texts ? LexicalFeaturizer.fit(kept.map((i) => texts[i])) : undefined;
    const lexical = featurizer && texts ? { vectors: kept.map((i) => featurizer.transform(texts[i])), dim: featurizer.dim } : undefined;
    const head = await trainLinearHead(
      kept.map((i) => refs[i]), Int32Array.from(kept, (i) => labelOf[i]), classes, dim, train, lexical,
      startWeights && Float32Array.from(kept, (i) => startWeights[i]),
      lossWeights && Float32Array.from(kept, (i) => lossWeights[i]),
    );
    for (const i of held) {
      linearScores(head, refs[i], logits, featurizer && texts ? featurizer.transform(texts[i]) : undefined);
      out[labelOf[i]].push(score(logits[labelOf[i]]));
    }
  }
  return out;
}

/**
 * The split-conformal lower bound of each category's scores: the ⌈q(n+1)⌉-th lowest of n (the lowest when n is too small
 * for q); NaN for a category without scores.
 */
export function lowerQuantiles(scores: number[][], quantile = DEFAULT_CALIBRATION.quantile): Float64Array {
  return Float64Array.from(scores, (s) => {
    if (s.length === 0) return NaN;
    const sorted = [...s].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(quantile * (sorted.length + 1)) - 1))];
  });
}
