/**
 * Precision at a given recall for the semantic cache: for one knob (the similarity threshold with plain cosine, the threshold
 * with the configured guard, or the pair scorer's min_score at the configured threshold), the setting that serves at least
 * the wanted share of duplicates with the best precision. The setting is chosen on one half of the pairs (even or odd lines)
 * and measured on the other, so the reported precision is out of sample for the choice; `in_sample` is the best the knob
 * reaches on all pairs (an optimistic bound, never a result).
 */
import type { ScoredPair } from './eval.js';
import { guardVerdict, ruleVerdict, type GuardOptions } from './guard.js';
import type { PairScorer } from './pair-scorer.js';

export type Knob = 'cosine_threshold' | 'guard_threshold' | 'min_score';

export interface KnobPoint { setting: number; precision: number; recall: number; served: number }

export interface RecallReport {
  knob: Knob;
  recall_target: number;
  /** Chosen on the even lines, measured on the odd lines, and the reverse; undefined when no setting reaches the recall. */
  folds: Array<{ chosen_on: 'even' | 'odd'; chosen: KnobPoint | undefined; held_out: KnobPoint | undefined }>;
  in_sample: KnobPoint | undefined;
}

/** One pair as the knobs see it: whether it may be served at a setting. */
interface Row { duplicate: boolean; served(setting: number): boolean }

const grid = (from: number, to: number, step: number): number[] => {
  const out: number[] = [];
  for (let x = from; x <= to + 1e-9; x += step) out.push(Math.round(x * 1000) / 1000);
  return out;
};

export const THRESHOLD_GRID = grid(0.7, 0.995, 0.005);
export const MIN_SCORE_GRID = grid(0.02, 0.98, 0.02);

function pointAt(rows: readonly Row[], setting: number): KnobPoint {
  let tp = 0, fp = 0, positives = 0;
  for (const r of rows) {
    if (r.duplicate) positives++;
    if (!r.served(setting)) continue;
    if (r.duplicate) tp++; else fp++;
  }
  return { setting, precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: positives === 0 ? 0 : tp / positives, served: tp + fp };
}

/** The setting with the best precision among those reaching `recall` (ties: the larger recall). */
export function bestAtRecall(rows: readonly Row[], settings: readonly number[], recall: number): KnobPoint | undefined {
  let best: KnobPoint | undefined;
  for (const s of settings) {
    const p = pointAt(rows, s);
    if (p.recall < recall || p.served === 0) continue;
    if (!best || p.precision > best.precision + 1e-12 || (Math.abs(p.precision - best.precision) <= 1e-12 && p.recall > best.recall)) best = p;
  }
  return best;
}

/** Per-pair work done once (rule checks, scorer probabilities), so every setting of a knob is a cheap comparison. */
function rowsFor(knob: Knob, scored: readonly ScoredPair[], threshold: number, guard: GuardOptions, scorer: PairScorer | undefined): Row[] {
  if (knob === 'cosine_threshold') return scored.map((p) => ({ duplicate: p.duplicate, served: (t) => p.similarity >= t }));
  const rules = { ...guard, enabled: true };
  return scored.map((p) => {
    const ruleOk = ruleVerdict(p.b, p.a, rules) === undefined;
    if (knob === 'min_score') {
      const prob = ruleOk && scorer && p.similarity >= threshold ? scorer.score(p.b, p.a, p.similarity, p.vectors) : -1;
      return { duplicate: p.duplicate, served: (m) => prob >= 0 && prob >= m };
    }
    if (guard.scorer && scorer) {
      const ok = ruleOk && scorer.score(p.b, p.a, p.similarity, p.vectors) >= (guard.min_score ?? scorer.model.cutoff);
      return { duplicate: p.duplicate, served: (t) => ok && p.similarity >= t };
    }
    // Rules only: the content-word check depends on the threshold, so it is asked at each setting.
    return { duplicate: p.duplicate, served: (t) => p.similarity >= t && guardVerdict(p.b, p.a, rules, p.similarity, t, undefined, p.vectors) === undefined };
  });
}

export function precisionAtRecall(
  knob: Knob, scored: readonly ScoredPair[], recall: number, threshold: number, guard: GuardOptions, scorer: PairScorer | undefined,
): RecallReport {
  const rows = rowsFor(knob, scored, threshold, guard, scorer);
  const settings = knob === 'min_score' ? MIN_SCORE_GRID : THRESHOLD_GRID;
  const folds = ([0, 1] as const).map((h) => {
    const fitted = rows.filter((_, i) => i % 2 === h);
    const held = rows.filter((_, i) => i % 2 !== h);
    const chosen = bestAtRecall(fitted, settings, recall);
    return { chosen_on: h === 0 ? 'even' as const : 'odd' as const, chosen, held_out: chosen && pointAt(held, chosen.setting) };
  });
  return { knob, recall_target: recall, folds, in_sample: bestAtRecall(rows, settings, recall) };
}
