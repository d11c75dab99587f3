/**
 * SentencePiece unigram tokenizer for the Universal Sentence Encoder Lite vocabulary: NFKC normalisation, spaces become the
 * ▁ word-boundary symbol (with one ▁ prepended), then the Viterbi segmentation that maximises the summed piece scores over a
 * trie of the vocabulary. Unknown characters become id 0 and runs of them merge, as the reference tokenizer does. Case is
 * kept: the vocabulary is case-sensitive.
 */

/** `[piece, log-probability score]`, indexed by token id. */
export type Vocabulary = ReadonlyArray<readonly [string, number]>;

const BOUNDARY = '\u2581';
const UNK = 0;
/** Ids 0..5 are unk, control and user-defined symbols, never produced by segmentation. */
const RESERVED = 6;

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Token id ending here, or -1. */
  id: number;
  score: number;
}

const newNode = (): TrieNode => ({ children: new Map(), id: -1, score: 0 });

export class SentencePieceTokenizer {
  private readonly root = newNode();

  constructor(vocabulary: Vocabulary) {
    for (let id = RESERVED; id < vocabulary.length; id++) {
      const [piece, score] = vocabulary[id];
      let node = this.root;
      for (const ch of piece) {
        let next = node.children.get(ch);
        if (!next) node.children.set(ch, (next = newNode()));
        node = next;
      }
      node.id = id;
      node.score = score;
    }
  }

  /** Normalised symbols (code points) the lattice runs over. */
  static symbols(text: string): string[] {
    const normalized = text.normalize('NFKC');
    if (normalized.length === 0) return [];
    return Array.from(BOUNDARY + normalized.replaceAll(' ', BOUNDARY));
  }

  /** Token ids for one text; at most `maxTokens` (the first ones) when given. */
  encode(text: string, maxTokens = Infinity): number[] {
    const symbols = SentencePieceTokenizer.symbols(text);
    const n = symbols.length;
    // best[e]: best score of a segmentation of symbols[0, e); word[e]: last token id of it; len[e]: its length in symbols.
    // A position nothing reaches keeps score 0 and the unknown token, exactly as the reference implementation behaves.
    const best = new Float64Array(n + 1);
    const word = new Int32Array(n + 1);
    const len = new Int32Array(n + 1).fill(1);
    for (let start = 0; start < n; start++) {
      let node: TrieNode | undefined = this.root;
      for (let end = start; end < n; end++) {
        node = node.children.get(symbols[end]);
        if (!node) break;
        if (node.id < 0) continue;
        const e = end + 1;
        const score = node.score + best[start];
        if (best[e] === 0 || score >= best[e]) {
          best[e] = score;
          word[e] = node.id;
          len[e] = e - start;
        }
      }
    }
    const reversed: number[] = [];
    for (let at = n; at > 0; at -= word[at] === UNK ? 1 : len[at]) reversed.push(word[at]);
    const ids: number[] = [];
    for (let i = reversed.length - 1; i >= 0; i--) {
      const id = reversed[i];
      // Runs of unknown symbols collapse into one unknown token.
      if (id === UNK && ids.length > 0 && ids[ids.length - 1] === UNK) continue;
      ids.push(id);
      if (ids.length >= maxTokens) break;
    }
    return ids;
  }
}
