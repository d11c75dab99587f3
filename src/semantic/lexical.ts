/**
 * Cheap lexical features of a text, used alongside the sentence embedding: hashed word unigrams and bigrams and character
 * 3–5-grams of each word (padded with spaces, so prefixes and suffixes count), sub-linear term frequency, IDF weighted
 * from the reference prompts, each block L2-normalised and the whole vector scaled to unit length. Sparse, and made without
 * substrings or maps: featurising a short request costs a few microseconds.
 */

export interface SparseVector {
  /** Feature indices, ascending and distinct. */
  index: Int32Array;
  value: Float32Array;
}

export interface LexicalOptions {
  /** log2 of the hashed feature space (both blocks share it). */
  bits: number;
  /** Character n-gram lengths, inclusive. */
  charMin: number;
  charMax: number;
  /** Relative weight of the word block against the character block (before the final normalisation). */
  wordWeight: number;
}

export const DEFAULT_LEXICAL: LexicalOptions = { bits: 15, charMin: 3, charMax: 5, wordWeight: 1 };

const WORD = /[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu;

/** Lower-cased word tokens (letters and digits; an apostrophe suffix such as "'s" stays with its word). */
export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** FNV-1a, fed one UTF-16 unit at a time; the seed distinguishes feature kinds. */
const FNV_PRIME = 0x01000193;
const fnvStart = (seed: number): number => (0x811c9dc5 ^ seed) >>> 0;
function fnvFeed(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

const WORD_SEED = 0x9e3779b9;
const CHAR_SEED = 0x85ebca6b;
const SPACE = 32;

/** Counts of one block's hashed features and the features in the order first seen (the order the weights are summed in). */
class Counts {
  readonly count: Float64Array;
  readonly seen: number[] = [];
  constructor(size: number) {
    this.count = new Float64Array(size);
  }
  add(k: number): void {
    if (this.count[k]++ === 0) this.seen.push(k);
  }
  clear(): void {
    for (const k of this.seen) this.count[k] = 0;
    this.seen.length = 0;
  }
}

/**
 * Counts a text's features into the two blocks: per word its unigram, its bigram with the word before ("a b") and the
 * character n-grams of the word padded with a space each side — hashed from the characters in place, no substrings made.
 */
function countFeatures(ws: readonly string[], o: LexicalOptions, word: Counts, char: Counts): void {
  const mask = (1 << o.bits) - 1;
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i];
    const own = fnvFeed(fnvStart(WORD_SEED), w);
    word.add((own >>> 0) & mask);
    if (i > 0) word.add((fnvFeed(Math.imul(fnvFeed(fnvStart(WORD_SEED), ws[i - 1]) ^ SPACE, FNV_PRIME), w) >>> 0) & mask);
    // ` ${w} `: position 0 and the last are the padding spaces.
    const last = w.length + 1;
    for (let n = o.charMin; n <= o.charMax; n++) {
      for (let s = 0; s + n <= last + 1; s++) {
        let h = fnvStart(CHAR_SEED);
        for (let p = s; p < s + n; p++) h = Math.imul(h ^ (p === 0 || p === last ? SPACE : w.charCodeAt(p - 1)), FNV_PRIME);
        char.add((h >>> 0) & mask);
      }
    }
  }
}

/** Working arrays for one featuriser (transform is synchronous, so one set serves every call). */
interface Scratch {
  word: Counts;
  char: Counts;
  /** Merged weight per hashed feature, and whether it is set. */
  merged: Float64Array;
  mergedSet: Uint8Array;
  mergedSeen: number[];
  weights: number[];
}

/**
 * Featuriser fitted on a set of texts (the reference prompts): the IDF comes from them, so words every category shares
 * weigh little and a word seen in few references weighs much. Output indices are compact: only hashed features seen in
 * fitting get one (`dim` of them), as no weight can be learnt for the others; those still count, at the highest IDF, in
 * a text's normalisation, so a text made of unfamiliar words has little lexical mass.
 */
export class LexicalFeaturizer {
  private scratch: Scratch | undefined;

  private constructor(
    readonly options: LexicalOptions,
    private readonly idf: Float32Array,
    /** Hashed feature → compact index, -1 when unseen in fitting. */
    private readonly compact: Int32Array,
    /** Number of compact features. */
    readonly dim: number,
  ) {}

  static fit(texts: string[], options: Partial<LexicalOptions> = {}): LexicalFeaturizer {
    const o = { ...DEFAULT_LEXICAL, ...options };
    const size = 1 << o.bits;
    const df = new Float32Array(size);
    const word = new Counts(size);
    const char = new Counts(size);
    const inText = new Uint8Array(size);
    for (const t of texts) {
      countFeatures(words(t), o, word, char);
      for (const seen of [word.seen, char.seen]) {
        for (const k of seen) {
          if (inText[k] === 0) {
            inText[k] = 1;
            df[k]++;
          }
        }
      }
      for (const k of word.seen) inText[k] = 0;
      for (const k of char.seen) inText[k] = 0;
      word.clear();
      char.clear();
    }
    const n = texts.length;
    const idf = df.map((d) => Math.log((1 + n) / (1 + d)) + 1);
    const compact = new Int32Array(df.length).fill(-1);
    let dim = 0;
    for (let k = 0; k < df.length; k++) if (df[k] > 0) compact[k] = dim++;
    return new LexicalFeaturizer(o, idf, compact, dim);
  }

  /** The unit-length sparse feature vector of a text (empty for a text without words). */
  transform(text: string): SparseVector {
    const size = 1 << this.options.bits;
    const sc = (this.scratch ??= {
      word: new Counts(size), char: new Counts(size), merged: new Float64Array(size), mergedSet: new Uint8Array(size), mergedSeen: [], weights: [],
    });
    const { merged, mergedSet, mergedSeen } = sc;
    try {
      countFeatures(words(text), this.options, sc.word, sc.char);
      // Each block: sub-linear term frequency times IDF, L2-normalised, scaled by the block's weight, added in.
      const block = (c: Counts, weight: number): void => {
        const w = sc.weights;
        w.length = 0;
        let norm = 0;
        for (const k of c.seen) {
          const v = (1 + Math.log(c.count[k])) * this.idf[k];
          w.push(v);
          norm += v * v;
        }
        if (norm === 0) return;
        const scale = weight / Math.sqrt(norm);
        for (let j = 0; j < c.seen.length; j++) {
          const k = c.seen[j];
          if (mergedSet[k] === 0) {
            mergedSet[k] = 1;
            mergedSeen.push(k);
            merged[k] = w[j] * scale;
          } else merged[k] += w[j] * scale;
        }
      };
      block(sc.word, this.options.wordWeight);
      block(sc.char, 1);
      let norm = 0;
      let kept = 0;
      for (const k of mergedSeen) {
        norm += merged[k] * merged[k];
        if (this.compact[k] >= 0) kept++;
      }
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      // Compact ids follow hashed order, so sorting the hashed keys sorts the output.
      const keys = new Int32Array(kept);
      let at = 0;
      for (const k of mergedSeen) if (this.compact[k] >= 0) keys[at++] = k;
      keys.sort();
      const index = new Int32Array(kept);
      const value = new Float32Array(kept);
      for (let i = 0; i < kept; i++) {
        index[i] = this.compact[keys[i]];
        value[i] = merged[keys[i]] * inv;
      }
      return { index, value };
    } finally {
      sc.word.clear();
      sc.char.clear();
      for (const k of mergedSeen) mergedSet[k] = 0;
      mergedSeen.length = 0;
    }
  }
}

/** Dot product of two sparse vectors with ascending indices. */
export function sparseDot(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.index.length && j < b.index.length) {
    const x = a.index[i];
    const y = b.index[j];
    if (x === y) s += a.value[i++] * b.value[j++];
    else if (x < y) i++;
    else j++;
  }
  return s;
}
