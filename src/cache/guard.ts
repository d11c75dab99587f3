/**
 * The false-hit guard. A semantic candidate above the similarity threshold is still rejected when the two questions differ in
 * what they ask: a different quantity, date or ordinal; a negation on one side only; a different question word (why vs how);
 * a named entity on one side only; or key content words that do not match. Lexical features only: extraction is one regex
 * pass, comparisons are set operations, so the guard costs microseconds. Features of a cached question are extracted once,
 * when it is stored.
 */
import { NEGATORS, QUESTION_WORDS, STOPWORDS, quantityOf, stem } from './guard-lexicon.js';

export type GuardCheck = 'numbers' | 'negation' | 'question_word' | 'entities' | 'content_words';
export const GUARD_CHECKS: readonly GuardCheck[] = ['numbers', 'negation', 'question_word', 'entities', 'content_words'];

export interface GuardOptions {
  enabled: boolean;
  numbers: boolean;
  negation: boolean;
  question_word: boolean;
  entities: boolean;
  content_words: boolean;
  /** Content words (stems) allowed on one side only, summed over both sides, before the candidate is rejected. */
  max_unmatched_content_words: number;
  /** Each unmatched content word raises the similarity the candidate needs by this much. */
  unmatched_word_penalty: number;
}

/** What the guard compares, extracted once per text. */
export interface QuestionFeatures {
  /** Canonical quantities, dates and ordinals, sorted (a multiset). */
  readonly quantities: readonly string[];
  /** Does the text negate (an odd number of negators)? */
  readonly negated: boolean;
  readonly questionWords: ReadonlySet<string>;
  /** Stems of capitalised words that are not sentence-initial (names, places, products). */
  readonly entities: ReadonlySet<string>;
  /** The entities in order of first appearance ("Apple vs Samsung" is not "Samsung vs Apple"). */
  readonly entityOrder: readonly string[];
  /** Stems of content words (everything but function words, negators, question words and quantities). */
  readonly content: ReadonlySet<string>;
}

const TOKEN = /\p{L}+(?:'\p{L}+|\+\+|#)?|\d[\d,]*(?:\.\d+)?\p{L}*/gu;
const ASCII_WORD = /^[\x00-\x7f]*$/;
const SENTENCE_END = /[.?!:;"(]\s*$/;

export function extractFeatures(text: string): QuestionFeatures {
  const quantities: string[] = [];
  const questionWords = new Set<string>();
  const entities = new Set<string>();
  const content = new Set<string>();
  const order: string[] = [];
  let lastQuestionWord = '';
  let negators = 0;
  let prevEnd = 0;
  let first = true;
  for (const m of text.matchAll(TOKEN)) {
    let raw = m[0];
    const at = m.index;
    const sentenceStart = first || SENTENCE_END.test(text.slice(prevEnd, at));
    first = false;
    prevEnd = at + raw.length;
    if (raw.endsWith(',')) raw = raw.slice(0, -1);
    let lower = raw.toLowerCase();
    if (lower.endsWith("n't")) {
      negators++;
      lower = lower === "won't" ? 'will' : lower === "can't" ? 'can' : lower.slice(0, -3);
    }
    if (NEGATORS.has(lower)) { negators++; continue; }
    const q = QUESTION_WORDS.get(lower);
    if (q !== undefined) { lastQuestionWord = q; questionWords.add(q); continue; }
    if (lastQuestionWord === 'how' && (lower === 'many' || lower === 'much')) {
      questionWords.delete('how');
      questionWords.add('how_many');
      lastQuestionWord = '';
      continue;
    }
    lastQuestionWord = '';
    const quantity = quantityOf(lower);
    if (quantity !== undefined) { quantities.push(quantity); continue; }
    const upper = raw !== lower && raw === raw.toUpperCase() && raw !== 'I';
    if (!upper && (STOPWORDS.has(lower) || (lower.length < 2 && !/^[b-hj-z]$/.test(lower)))) continue;
    const s = upper ? lower : stem(lower);
    content.add(s);
    const capital = raw[0] !== raw[0].toLowerCase();
    if (upper || (capital && !sentenceStart) || !ASCII_WORD.test(raw)) {
      if (!entities.has(s)) order.push(s);
      entities.add(s);
    }
  }
  quantities.sort();
  return { quantities, negated: negators % 2 === 1, questionWords, entities, entityOrder: order, content };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Entities of `a` that the other text does not mention at all (in any case). */
function missingEntity(a: QuestionFeatures, b: QuestionFeatures): boolean {
  for (const e of a.entities) if (!b.content.has(e)) return true;
  return false;
}

/** Do the entities both sides mention appear in a different order? */
function entitiesReordered(a: QuestionFeatures, b: QuestionFeatures): boolean {
  let last = -1;
  for (const e of a.entityOrder) {
    const at = b.entityOrder.indexOf(e);
    if (at < 0) continue;
    if (at < last) return true;
    last = at;
  }
  return false;
}

/** Content words found on one side only, counted over both sides. */
export function unmatchedContentWords(a: QuestionFeatures, b: QuestionFeatures): number {
  let n = 0;
  for (const w of a.content) if (!b.content.has(w)) n++;
  for (const w of b.content) if (!a.content.has(w)) n++;
  return n;
}

/**
 * The first check that tells the two questions apart, or undefined when none does (the candidate may be served).
 * Checks run cheapest and most decisive first.
 */
export function guardVerdict(
  query: QuestionFeatures, cached: QuestionFeatures, opts: GuardOptions, similarity = 1, threshold = 0,
): GuardCheck | undefined {
  if (!opts.enabled) return undefined;
  if (opts.numbers && !sameList(query.quantities, cached.quantities)) return 'numbers';
  if (opts.negation && query.negated !== cached.negated) return 'negation';
  if (opts.question_word && query.questionWords.size > 0 && cached.questionWords.size > 0 &&
      !sameSet(query.questionWords, cached.questionWords)) return 'question_word';
  if (opts.entities && (missingEntity(query, cached) || missingEntity(cached, query) ||
      entitiesReordered(query, cached))) return 'entities';
  if (opts.content_words) {
    const n = unmatchedContentWords(query, cached);
    if (n > opts.max_unmatched_content_words || similarity < threshold + n * opts.unmatched_word_penalty) return 'content_words';
  }
  return undefined;
}
