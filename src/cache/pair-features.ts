/**
 * What the pair scorer sees of a (new query, cached question) pair: the cosine similarity of their embeddings plus lexical
 * comparisons of the two texts' guard features. Both sides' features are extracted once per text (a stored entry keeps
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
] as const;

export type PairFeature = (typeof PAIR_FEATURES)[number];

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
    const i = b.contentOrder.indexOf(w);
    if (i >= 0) at.push(i);
  }
  let n = 0;
  for (let i = 0; i < at.length; i++) for (let j = i + 1; j < at.length; j++) if (at[i] > at[j]) n++;
  return n;
}

/** The feature row of a pair, in PAIR_FEATURES order, written into `out`. */
export function pairFeatures(
  query: QuestionFeatures, cached: QuestionFeatures, similarity: number,
  out: Float64Array = new Float64Array(PAIR_FEATURES.length),
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
  return out;
}
