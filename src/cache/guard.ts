/**
 * The false-hit guard. A semantic candidate above the similarity threshold is still rejected when the two questions differ in
 * what they ask. Rules reject outright: a different quantity, date or ordinal; a negation on one side only; a different
 * question word (why vs how); a named entity swapped or missing. Then, by default, the learned pair scorer
 * (./pair-scorer.ts) weighs the similarity together with lexical comparisons (unmatched content words, word overlap and
 * order, ...) and serves the candidate when its probability reaches the cutoff; without the scorer, a rule on unmatched
 * content words decides. Extraction is one regex pass and comparisons are set operations, so the guard costs microseconds
 * per candidate. Features of a cached question are extracted once, when it is stored.
 */
import { entitiesReordered, missingEntities, sameList, sameSet } from './feature-compare.js';
import { FROM_WORDS, MERIDIEM, NEGATORS, QUESTION_WORDS, SCALE_WORDS, STOPWORDS, TO_WORDS, UNIT_WORDS, quantityOf, stem } from './guard-lexicon.js';
import { createPairScorer, loadPairModel, type PairScorer } from './pair-scorer.js';
import type { PairVectors } from './pair-features.js';
import { DEFAULT_PAIR_MODEL } from './pair-weights.js';

export type GuardCheck = 'numbers' | 'units' | 'negation' | 'opposites' | 'question_word' | 'entities' | 'content_words' | 'scorer';
export const GUARD_CHECKS: readonly GuardCheck[] = ['numbers', 'units', 'negation', 'opposites', 'question_word', 'entities', 'content_words', 'scorer'];

export interface GuardOptions {
  enabled: boolean;
  numbers: boolean;
  /** Units and time frames (months vs years, am vs pm, km vs miles). */
  units: boolean;
  negation: boolean;
  /** Opposite ends of a scale (cheapest vs most expensive, increase vs decrease) and reversed directions (A to B vs B to A). */
  opposites: boolean;
  question_word: boolean;
  entities: boolean;
  content_words: boolean;
  /** Content words (stems) allowed on one side only, summed over both sides, before the candidate is rejected. */
  max_unmatched_content_words: number;
  /** Each unmatched content word raises the similarity the candidate needs by this much. */
  unmatched_word_penalty: number;
  /** Decide with the learned pair scorer instead of the content-word rule. */
  scorer: boolean;
  /** A refitted model file (see `switchyard cache-eval --fit`). */
  scorer_file?: string;
  /** Overrides the model's cutoff (a probability). */
  min_score?: number;
}

/** What the guard compares, extracted once per text. */
export interface QuestionFeatures {
  /** Canonical quantities, dates and ordinals, sorted (a multiset). */
  readonly quantities: readonly string[];
  /** Units and time frames, canonical, sorted (a multiset). */
  readonly units: readonly string[];
  /** Ends of scales named, as `axis+` / `axis-` ("least expensive" is `price-`). */
  readonly scales: ReadonlySet<string>;
  /** Movements and conversions, as `from>to` ("from boston to miami", "dollars to rupees"). */
  readonly directions: ReadonlySet<string>;
  /** Does the text negate (an odd number of negators)? */
  readonly negated: boolean;
  readonly questionWords: ReadonlySet<string>;
  /** Stems of capitalised words that are not sentence-initial (names, places, products). */
  readonly entities: ReadonlySet<string>;
  /** The entities in order of first appearance ("Apple vs Samsung" is not "Samsung vs Apple"). */
  readonly entityOrder: readonly string[];
  /** Stems of content words (everything but function words, negators, question words and quantities). */
  readonly content: ReadonlySet<string>;
  /** The content stems in order of first appearance ("dollars to rupees" is not "rupees to dollars"). */
  readonly contentOrder: readonly string[];
  /** Every word, lower-cased, as written (the pair scorer's overlap measures). */
  readonly words: ReadonlySet<string>;
  /** Adjacent word pairs of the first MAX_BIGRAM_WORDS words. */
  readonly bigrams: ReadonlySet<string>;
  /** Function words present (stop words, negators, question words), lower-cased. */
  readonly functionWords: ReadonlySet<string>;
  readonly wordCount: number;
}

/** Word pairs are compared on the opening words only: enough for questions, bounded for long prompts. */
const MAX_BIGRAM_WORDS = 200;

/** Words (with an apostrophe, typographic or not: "don't", "don’t"), C++ / C#, numbers. */
const TOKEN = /\p{L}+(?:['\u2019]\p{L}+|\+\+|#)?|\d[\d,]*(?:\.\d+)?\p{L}*/gu;
/** What follows an interjection ("No, it doesn't", "No. It isn't"): the word answers, it negates nothing. */
const INTERJECTION_END = /^\s*[,.!;:]/;
const ASCII_WORD = /^[\x00-\x7f]*$/;
const SENTENCE_END = /[.?!:;"(]\s*$/;

export function extractFeatures(text: string): QuestionFeatures {
  const quantities: string[] = [];
  const questionWords = new Set<string>();
  const entities = new Set<string>();
  const content = new Set<string>();
  const order: string[] = [];
  const contentOrder: string[] = [];
  const words = new Set<string>();
  const bigrams = new Set<string>();
  const functionWords = new Set<string>();
  let wordCount = 0;
  let previous = '';
  let lastQuestionWord = '';
  let negators = 0;
  let prevEnd = 0;
  let first = true;
  const units: string[] = [];
  const scales = new Set<string>();
  const directions = new Set<string>();
  const ends = (axis: string, sign: number) => `${axis}${sign > 0 ? '+' : '-'}`;
  let degree = 0;
  let afterQuantity = false;
  // Directions: the slot a "from" opened, the left end a "to" is waiting to join, the content word just before.
  let awaitingFrom = false;
  let fromSlot: string | undefined;
  let left: string | undefined;
  let previousValue: string | undefined;
  const slot = (value: string) => {
    if (awaitingFrom) { fromSlot = value; awaitingFrom = false; }
    else if (left !== undefined) { directions.add(`${left}>${value}`); left = undefined; fromSlot = undefined; }
  };
  for (const m of text.matchAll(TOKEN)) {
    let raw = m[0].replace('\u2019', "'");
    const at = m.index;
    const sentenceStart = first || SENTENCE_END.test(text.slice(prevEnd, at));
    first = false;
    prevEnd = at + raw.length;
    if (raw.endsWith(',')) raw = raw.slice(0, -1);
    let lower = raw.toLowerCase();
    words.add(lower);
    if (wordCount < MAX_BIGRAM_WORDS) {
      if (wordCount > 0) bigrams.add(`${previous} ${lower}`);
      previous = lower;
    }
    wordCount++;
    if (lower.endsWith("n't")) {
      negators++;
      lower = lower === "won't" ? 'will' : lower === "can't" ? 'can' : lower.slice(0, -3);
    }
    const bare = lower.endsWith("'s") ? lower.slice(0, -2) : lower;
    const value = previousValue;
    previousValue = undefined;
    const wasQuantity = afterQuantity;
    afterQuantity = false;
    const scaleEnd = SCALE_WORDS.get(bare);
    if (degree !== 0) {
      if (scaleEnd && scaleEnd[0] !== 'degree') scales.add(ends(scaleEnd[0], scaleEnd[1] * degree));
      else scales.add(ends('degree', degree));
      const turned = scaleEnd !== undefined && scaleEnd[0] !== 'degree';
      degree = 0;
      if (!turned && scaleEnd) degree = scaleEnd[1];
    } else if (scaleEnd) {
      if (scaleEnd[0] === 'degree') degree = scaleEnd[1];
      else scales.add(ends(scaleEnd[0], scaleEnd[1]));
    }
    const unit = UNIT_WORDS.get(bare) ?? (wasQuantity ? MERIDIEM.get(bare) : undefined);
    if (unit !== undefined) { units.push(unit); slot(unit); previousValue = unit; }
    if (FROM_WORDS.has(lower)) awaitingFrom = true;
    else if (TO_WORDS.has(lower)) left = fromSlot ?? value;
    if (NEGATORS.has(lower)) {
      if (!(lower === 'no' && sentenceStart && INTERJECTION_END.test(text.slice(prevEnd, prevEnd + 4)))) negators++;
      functionWords.add(lower);
      continue;
    }
    const q = QUESTION_WORDS.get(lower);
    if (q !== undefined) { lastQuestionWord = q; questionWords.add(q); functionWords.add(lower); continue; }
    if (lastQuestionWord === 'how' && (lower === 'many' || lower === 'much')) {
      questionWords.delete('how');
      questionWords.add('how_many');
      functionWords.add(lower);
      lastQuestionWord = '';
      continue;
    }
    lastQuestionWord = '';
    const quantity = quantityOf(bare);
    if (quantity !== undefined) { quantities.push(quantity); afterQuantity = true; slot(quantity); previousValue = quantity; continue; }
    const upper = raw !== lower && raw === raw.toUpperCase() && raw !== 'I';
    if (!upper && (STOPWORDS.has(lower) || (lower.length < 2 && !/^[b-hj-z]$/.test(lower)))) {
      functionWords.add(lower);
      // A capitalised word inside a sentence names something even when its lower-case form is on the list ("on Quora").
      if (lower.length > 1 && raw[0] !== lower[0] && !sentenceStart && !entities.has(lower)) { order.push(lower); entities.add(lower); }
      continue;
    }
    const s = upper ? lower : stem(lower);
    if (!content.has(s)) contentOrder.push(s);
    content.add(s);
    if (unit === undefined) { slot(s); previousValue = s; }
    else previousValue = unit;
    const capital = raw[0] !== raw[0].toLowerCase();
    if (upper || (capital && !sentenceStart) || !ASCII_WORD.test(raw)) {
      if (!entities.has(s)) order.push(s);
      entities.add(s);
    }
  }
  if (degree !== 0) scales.add(ends('degree', degree));
  quantities.sort();
  units.sort();
  return {
    quantities, units, scales, directions, negated: negators % 2 === 1, questionWords, entities, entityOrder: order, content, contentOrder, words, bigrams,
    functionWords, wordCount,
  };
}

/** Content words found on one side only, counted over both sides. */
export function unmatchedContentWords(a: QuestionFeatures, b: QuestionFeatures): number {
  let n = 0;
  for (const w of a.content) if (!b.content.has(w)) n++;
  for (const w of b.content) if (!a.content.has(w)) n++;
  return n;
}

/** The rule checks that reject outright (everything but content words), or undefined when none does. */
export function ruleVerdict(query: QuestionFeatures, cached: QuestionFeatures, opts: GuardOptions): GuardCheck | undefined {
  if (opts.numbers && !sameList(query.quantities, cached.quantities)) return 'numbers';
  if (opts.units && query.units.length > 0 && cached.units.length > 0 && !sameList(query.units, cached.units)) return 'units';
  if (opts.negation && query.negated !== cached.negated) return 'negation';
  if (opts.opposites && (oppositeEnds(query.scales, cached.scales) || reversed(query.directions, cached.directions))) return 'opposites';
  if (opts.question_word && query.questionWords.size > 0 && cached.questionWords.size > 0 &&
      !sameSet(query.questionWords, cached.questionWords)) return 'question_word';
  if (opts.entities) {
    // With the scorer, only an entity swapped for another is decisive: one named on a single side is often a paraphrase
    // ("the Hub" vs "Hugging Face Hub"), and the scorer weighs that itself.
    const a = missingEntities(query, cached) > 0, b = missingEntities(cached, query) > 0;
    if ((opts.scorer ? a && b : a || b) || entitiesReordered(query, cached)) return 'entities';
  }
  return undefined;
}

/** Does a scale named on both sides sit at different ends? */
function oppositeEnds(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const axes = (s: ReadonlySet<string>) => new Set([...s].map((e) => e.slice(0, -1)));
  const shared = [...axes(a)].filter((x) => axes(b).has(x));
  return shared.some((x) => a.has(`${x}+`) !== b.has(`${x}+`) || a.has(`${x}-`) !== b.has(`${x}-`));
}

/** Does one side go from A to B and the other from B to A? */
function reversed(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const d of a) {
    const [from, to] = d.split('>');
    if (b.has(`${to}>${from}`) && !b.has(d)) return true;
  }
  return false;
}

let shipped: PairScorer | undefined;

/** The scorer fitted on the development pairs and shipped in ./pair-weights.ts. */
export function defaultPairScorer(): PairScorer {
  shipped ??= createPairScorer(DEFAULT_PAIR_MODEL);
  return shipped;
}

/** The scorer the options ask for: the model file's when one is configured (read now, so errors surface at start-up). */
export function resolvePairScorer(opts: Pick<GuardOptions, 'scorer' | 'scorer_file'>): PairScorer | undefined {
  if (!opts.scorer) return undefined;
  return opts.scorer_file === undefined ? defaultPairScorer() : createPairScorer(loadPairModel(opts.scorer_file));
}

/**
 * The first check that tells the two questions apart, or undefined when none does (the candidate may be served).
 * Checks run cheapest and most decisive first; with the scorer on, its probability replaces the content-word rule. The
 * cache passes both embeddings (`vectors`) for the scorer's vector features.
 */
export function guardVerdict(
  query: QuestionFeatures, cached: QuestionFeatures, opts: GuardOptions, similarity = 1, threshold = 0,
  scorer?: PairScorer, vectors?: PairVectors,
): GuardCheck | undefined {
  if (!opts.enabled) return undefined;
  const rule = ruleVerdict(query, cached, opts);
  if (rule !== undefined) return rule;
  if (opts.scorer) {
    const s = scorer ?? defaultPairScorer();
    return s.score(query, cached, similarity, vectors) >= (opts.min_score ?? s.model.cutoff) ? undefined : 'scorer';
  }
  if (opts.content_words) {
    const n = unmatchedContentWords(query, cached);
    if (n > opts.max_unmatched_content_words || similarity < threshold + n * opts.unmatched_word_penalty) return 'content_words';
  }
  return undefined;
}
