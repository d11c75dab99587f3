/**
 * What the classifier trains its head with, beyond the optimiser defaults of linear-head.ts: the constants learned from
 * data (head-constants.ts, produced by scripts/fit-constants.ts) and the epoch budgets derived from them.
 */
import { DEFAULT_TRAIN, type TrainOptions } from './linear-head.js';

/** The head settings fitted on data (see head-constants.ts). */
export interface HeadConstants {
  /**
   * Weight of a category's name-as-example (see catalog/build.ts) in the prototypes the head starts from: the name is the
   * category's most general example; training itself weighs every example alike.
   */
  nameStartWeight: number;
  /** Initial logit scale of the lexical prototypes (TrainOptions.lexicalScale) of a head with a lexical part. */
  lexicalScale: number;
  /** Pull towards the prototype start (TrainOptions.l2) of a head with a lexical part. */
  l2: number;
  /** Sample steps a head with a lexical part trains for (epochs = steps / references, within the epoch bounds). */
  lexicalSteps: number;
}

/** Training budget of an embedding-only head: about 30k sample steps, 3 to 10 epochs. */
export const epochsFor = (n: number): number => Math.max(3, Math.min(10, Math.ceil(30_000 / Math.max(1, n))));

/**
 * Large sets need at least this many passes over a lexical head's references: one pass over Banking77's 7,766 training
 * rows ranks 87.6% of a tuning split right, three 91.3%, six 91.6% (scripts/eval-routing.sh: the odd lines of 30
 * held-out rows per label).
 */
export const LEXICAL_MIN_EPOCHS = 3;

/** Training budget of a head with a lexical part: `steps` sample steps, LEXICAL_MIN_EPOCHS to 10 epochs. */
export const lexicalEpochsFor = (n: number, steps: number): number =>
  Math.max(LEXICAL_MIN_EPOCHS, Math.min(10, Math.ceil(steps / Math.max(1, n))));

/** Training options of a head (embedding-only or with a lexical part) over n references; `train` overrides any of them. */
export function headTrainOptions(n: number, lexical: boolean, head: HeadConstants, train: Partial<TrainOptions> = {}): TrainOptions {
  return lexical
    ? { ...DEFAULT_TRAIN, epochs: lexicalEpochsFor(n, head.lexicalSteps), l2: head.l2, lexicalScale: head.lexicalScale, ...train }
    : { ...DEFAULT_TRAIN, epochs: epochsFor(n), ...train };
}
