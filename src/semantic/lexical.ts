/**
 * Cheap lexical features of a text, used alongside the sentence embedding: hashed word unigrams and bigrams and character
 * 3–5-grams of each word (padded with spaces, so prefixes and suffixes count), sub-linear term frequency, IDF weighted
 * from the reference prompts, each block L2-normalised and the whole vector scaled to unit length. Sparse and pure:
 * featurising a short request costs a few microseconds.
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

/** 32-bit FNV-1a of a string, with a seed distinguishing feature kinds. */
function hash(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const WORD_SEED = 0x9e3779b9;
const CHAR_SEED = 0x85ebca6b;

/** Raw counts per block: feature index → count. */
function counts(text: string, o: LexicalOptions): { word: Map<number, number>; char: Map<number, number> } {
  const mask = (1 << o.bits) - 1;
  const word = new Map<number, number>();
  const char = new Map<number, number>();
  const add = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);
  const ws = words(text);
  for (let i = 0; i < ws.length; i++) {
    add(word, hash(ws[i], WORD_SEED) & mask);
    if (i > 0) add(word, hash(`${ws[i - 1]} ${ws[i]}`, WORD_SEED) & mask);
    const padded = ` ${ws[i]} `;
    for (let n = o.charMin; n <= o.charMax; n++) {
      for (let s = 0; s + n <= padded.length; s++) add(char, hash(padded.slice(s, s + n), CHAR_SEED) & mask);
    }
  }
  return { word, char };
}

/**
 * Featuriser fitted on a set of texts (the reference prompts): the IDF comes from them, so words every category shares
 * weigh little and a word seen in few references weighs much. Output indices are compact: only hashed features seen in
 * fitting get one (`dim` of them), as no weight can be learnt for the others; those still count, at the highest IDF, in
 * a text's normalisation, so a text made of unfamiliar words has little lexical mass.
 */
export class LexicalFeaturizer {
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
    const df = new Float32Array(1 << o.bits);
    for (const t of texts) {
      const { word, char } = counts(t, o);
      for (const k of new Set([...word.keys(), ...char.keys()])) df[k]++;
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
    const { word, char } = counts(text, this.options);
    const merged = new Map<number, number>();
    const block = (m: Map<number, number>, weight: number) => {
      let norm = 0;
      const vals: Array<[number, number]> = [];
      for (const [k, c] of m) {
        const v = (1 + Math.log(c)) * this.idf[k];
        vals.push([k, v]);
        norm += v * v;
      }
      if (norm === 0) return;
      const scale = weight / Math.sqrt(norm);
      for (const [k, v] of vals) merged.set(k, (merged.get(k) ?? 0) + v * scale);
    };
    block(word, this.options.wordWeight);
    block(char, 1);
    let norm = 0;
    for (const v of merged.values()) norm += v * v;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    // Compact ids follow hashed order, so sorting the hashed keys sorts the output.
    const keys = Int32Array.from([...merged.keys()].filter((k) => this.compact[k] >= 0)).sort();
    const index = new Int32Array(keys.length);
    const value = new Float32Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      index[i] = this.compact[keys[i]];
      value[i] = merged.get(keys[i])! * inv;
    }
    return { index, value };
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
