/**
 * What the pair scorer sees of a (new query, cached question) pair: the cosine similarity of their embeddings, lexical
 * comparisons of the two texts' guard features, and per-dimension comparisons of the two embeddings. Both sides' features are extracted once per text (a stored entry keeps
 * its own), so a pair costs a handful of set look-ups: no allocation but the output row, which callers may reuse.
 */
import { entitiesReordered, missing, missingEntities, sameList, sameSet } from './feature-compare.js';
import type { QuestionFeatures } from './guard.js';

/** Feature names, in the order of a feature row. A fitted model names the features it uses, so the list may grow. */
export const PAIR_FEATURES = [
  'similarity',
  'quantities_differ',
  'negation_one_sided',
  'question_word_differs',
  'entities_unmatched',
  'entities_reordered',
  'unmatched_words',
  'unmatched_share',
  'unmatched_min_side',
  'unmatched_max_side',
  'one_side_adds',
  'length_ratio',
  'word_jaccard',
  'bigram_jaccard',
  'shared_order_inversions',
  'function_words_unmatched',
  'total_words',
  // From the two embeddings (unit length): what the cosine sums up, seen per dimension.
  'vector_l1',
  'vector_max_diff',
  /** A linear score over the per-dimension products and differences, weighted by the model (PairModel.vector). */
  'vector_score',
] as const;

export type PairFeature = (typeof PAIR_FEATURES)[number];

/** The two embeddings of a pair (any length; the features scale them to unit length). */
export interface PairVectors { query: ArrayLike<number>; cached: ArrayLike<number> }

/** Position of the model-weighted vector score in a row: filled by the scorer (or the fit), not by pairFeatures. */
export const VECTOR_SCORE = PAIR_FEATURES.indexOf('vector_score');

const inverseNorm = (v: ArrayLike<number>): number => {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  return n > 0 ? 1 / Math.sqrt(n) : 0;
};

/**
 * Per-dimension comparisons of the two vectors scaled to unit length, in one pass: the L1 distance, the largest difference,
 * and, with `weights` (products first, then absolute differences, 2 x dim), bias + the weighted sum; with `terms`, the
 * products and differences themselves (what the weights are fitted on).
 */
export function vectorTerms(
  v: PairVectors, terms?: Float64Array, weights?: ArrayLike<number>, bias = 0,
): { l1: number; max: number; score: number } {
  const a = v.query, b = v.cached, n = a.length;
  if (b.length !== n) throw new Error(`pair vectors differ in length (${n} and ${b.length})`);
  const sa = inverseNorm(a), sb = inverseNorm(b);
  let l1 = 0, max = 0, score = bias;
  for (let i = 0; i < n; i++) {
    const x = a[i] * sa, y = b[i] * sb, p = x * y, d = Math.abs(x - y);
    l1 += d;
    if (d > max) max = d;
    if (weights !== undefined) score += weights[i] * p + weights[n + i] * d;
    if (terms !== undefined) { terms[i] = p; terms[n + i] = d; }
  }
  return { l1, max, score: weights === undefined ? NaN : score };
}

/** Shared content words whose relative order is compared (the count of inversions is quadratic in it). */
const MAX_ORDERED = 48;

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>, aOnly: number): number {
  const shared = a.size - aOnly;
  const union = a.size + b.size - shared;
  return union === 0 ? 1 : shared / union;
}

/** Pairs of shared content words that the two texts put in opposite order ("convert dollars to rupees" vs the reverse). */
function inversions(a: QuestionFeatures, b: QuestionFeatures): number {
  const at: number[] = [];
  for (const w of a.contentOrder) {
    if (at.length === MAX_ORDERED) break;
    // Only a shared word is searched for: a search for each of a's words cost the product of the two lists' lengths.
    if (b.content.has(w)) at.push(b.contentOrder.indexOf(w));
  }
  let n = 0;
  for (let i = 0; i < at.length; i++) for (let j = i + 1; j < at.length; j++) if (at[i] > at[j]) n++;
  return n;
}

/**
 * The feature row of a pair, in PAIR_FEATURES order, written into `out`. Without the vectors their features are NaN
 * (unknown; a tree sends NaN to the right of every split); `vector_score` needs the model's weights (`vector`).
 */
export function pairFeatures(
  query: QuestionFeatures, cached: QuestionFeatures, similarity: number,
  out: Float64Array = new Float64Array(PAIR_FEATURES.length), vectors?: PairVectors, vector?: { bias: number; weights: ArrayLike<number> },
): Float64Array {
  const onlyQuery = missing(query.content, cached.content);
  const onlyCached = missing(cached.content, query.content);
  const unmatched = onlyQuery + onlyCached;
  const union = query.content.size + onlyCached;
  const wordsOnlyQuery = missing(query.words, cached.words);
  const qa = query.questionWords, qb = cached.questionWords;
  out[0] = similarity;
  out[1] = sameList(query.quantities, cached.quantities) ? 0 : 1;
  out[2] = query.negated === cached.negated ? 0 : 1;
  out[3] = qa.size > 0 && qb.size > 0 && !sameSet(qa, qb) ? 1 : 0;
  out[4] = missingEntities(query, cached) + missingEntities(cached, query);
  out[5] = entitiesReordered(cached, query) ? 1 : 0;
  out[6] = unmatched;
  out[7] = union === 0 ? 0 : unmatched / union;
  out[8] = Math.min(onlyQuery, onlyCached);
  out[9] = Math.max(onlyQuery, onlyCached);
  out[10] = unmatched > 0 && (onlyQuery === 0 || onlyCached === 0) ? 1 : 0;
  out[11] = Math.min(query.wordCount, cached.wordCount) / Math.max(1, query.wordCount, cached.wordCount);
  out[12] = jaccard(query.words, cached.words, wordsOnlyQuery);
  out[13] = jaccard(query.bigrams, cached.bigrams, missing(query.bigrams, cached.bigrams));
  out[14] = inversions(cached, query);
  out[15] = missing(query.functionWords, cached.functionWords) + missing(cached.functionWords, query.functionWords);
  out[16] = query.wordCount + cached.wordCount;
  const v = vectors === undefined ? undefined : vectorTerms(vectors, undefined, vector?.weights, vector?.bias);
  out[17] = v?.l1 ?? NaN;
  out[18] = v?.max ?? NaN;
  out[19] = v?.score ?? NaN;
  return out;
}
