/**
 * Intent classifier over the embedded reference prompts. Per query it computes, for each category:
 *  - `prototype`: cosine similarity to the category's normalised mean vector;
 *  - `neighbour`: cosine similarity to its nearest reference (HNSW neighbours, exact per-category search when needed);
 *  - `probability`: a multinomial logistic head trained at load time (see linear-head.ts).
 * Methods: `knn` ranks by neighbour similarity, `centroid` by prototype similarity, `linear` by probability and `blend`
 * (default) ranks by probability and scores by similarity, (prototype + neighbour) / 2, which measured best on CLINC150:
 * the head separates close categories, the similarity rejects out-of-scope text. The winner is accepted when its score
 * reaches its category's threshold (else the global one) and its margin reaches `min_margin`; otherwise intent is `none`.
 */
import { VectorIndex } from './vector-index.js';
import { linearScores, prototypes, softmax, trainLinearHead, type LinearHead, type TrainOptions } from './linear-head.js';

export type ClassifierMethod = 'blend' | 'knn' | 'centroid' | 'linear';

export interface Classification {
  /** The winning category, or 'none' when rejected. */
  intent: string;
  score: number;
  /** Winner minus runner-up, on the ranking scale (probability for blend and linear, similarity otherwise). */
  margin: number;
  top: Array<{ intent: string; score: number }>;
  /** The winning category's metadata ({} for none). */
  metadata: Record<string, unknown>;
}

export interface ClassifierSettings {
  method: ClassifierMethod;
  k: number;
  threshold: number;
  min_margin: number;
  top_k: number;
}

export interface ClassifierCategory {
  name: string;
  threshold?: number;
  metadata: Record<string, unknown>;
}

export interface IndexSettings {
  M: number;
  ef_construction: number;
  ef_search: number;
}

/** Built-in global thresholds per method, used when neither config nor the reference folder sets one. */
export const DEFAULT_THRESHOLD: Record<ClassifierMethod, number> = { blend: 0.5, knn: 0.55, centroid: 0.5, linear: 0.3 };

export const NONE_INTENT = 'none';

/** Training budget: about 8k sample steps (1..10 epochs), so large sets train in seconds. */
export const epochsFor = (n: number): number => Math.max(1, Math.min(10, Math.ceil(8_000 / Math.max(1, n))));

export class IntentClassifier {
  readonly dim: number;
  private readonly protos: Float32Array;
  private readonly head: LinearHead | undefined;
  private readonly index: VectorIndex;
  private readonly labelOf: Int32Array;
  private readonly thresholds: Float64Array;
  private readonly scratch: { lin: Float32Array; proto: Float32Array; nn: Float32Array };

  private constructor(
    readonly categories: ClassifierCategory[],
    readonly settings: ClassifierSettings,
    private readonly refs: Float32Array[],
    labels: Int32Array,
    dim: number,
    indexSettings: IndexSettings,
    head: LinearHead | undefined,
  ) {
    const C = categories.length;
    this.dim = dim;
    this.labelOf = labels;
    this.protos = prototypes(refs, labels, C, dim);
    this.head = head;
    this.index = new VectorIndex({
      dim,
      M: indexSettings.M,
      efConstruction: indexSettings.ef_construction,
      efSearch: indexSettings.ef_search,
      initialCapacity: refs.length,
    });
    refs.forEach((v, i) => this.index.add(i, v));
    this.thresholds = Float64Array.from(categories, (c) => c.threshold ?? settings.threshold);
    this.scratch = { lin: new Float32Array(C), proto: new Float32Array(C), nn: new Float32Array(C) };
  }

  /** Builds the classifier; `vectors[c]` are the unit-length reference embeddings of `categories[c]`. */
  static async build(
    categories: ClassifierCategory[],
    vectors: Float32Array[][],
    dim: number,
    settings: ClassifierSettings,
    index: IndexSettings,
    train: Partial<TrainOptions> = {},
  ): Promise<IntentClassifier> {
    const refs = vectors.flat();
    const labels = new Int32Array(refs.length);
    let at = 0;
    vectors.forEach((vs, c) => vs.forEach(() => (labels[at++] = c)));
    const C = categories.length;
    const needsHead = (settings.method === 'blend' || settings.method === 'linear') && C > 1;
    const head = needsHead ? await trainLinearHead(refs, labels, C, dim, { epochs: epochsFor(refs.length), ...train }) : undefined;
    return new IntentClassifier(categories, settings, refs, labels, dim, index, head);
  }

  /** The same references and head with other thresholds (for fitting and evaluation without retraining). */
  withSettings(settings: ClassifierSettings, categories: ClassifierCategory[] = this.categories): IntentClassifier {
    const clone = Object.create(IntentClassifier.prototype) as IntentClassifier;
    Object.assign(clone, this, {
      settings,
      categories,
      thresholds: Float64Array.from(categories, (c) => c.threshold ?? settings.threshold),
      scratch: { lin: new Float32Array(categories.length), proto: new Float32Array(categories.length), nn: new Float32Array(categories.length) },
    });
    return clone;
  }

  get size(): number {
    return this.refs.length;
  }

  classify(vec: Float32Array): Classification {
    const { method, k, min_margin, top_k } = this.settings;
    const C = this.categories.length;
    const { lin, proto, nn } = this.scratch;
    if (C === 0) return { intent: NONE_INTENT, score: 0, margin: 0, top: [], metadata: {} };
    for (let c = 0; c < C; c++) {
      let s = 0;
      const off = c * this.dim;
      for (let d = 0; d < this.dim; d++) s += vec[d] * this.protos[off + d];
      proto[c] = s;
    }
    nn.fill(NaN);
    for (const n of this.index.search(vec, k)) {
      const c = this.labelOf[n.label];
      if (!(nn[c] >= n.score)) nn[c] = n.score;
    }
    // The ranking: what orders the categories. The score: what thresholds accept.
    let rank: Float32Array;
    if (method === 'centroid') rank = proto;
    else if (method === 'knn') rank = nn;
    else if (this.head) rank = softmax(linearScores(this.head, vec, lin));
    else rank = lin.fill(1);
    const order = topIndices(rank, Math.max(2, top_k));
    const score = (c: number): number => {
      if (method === 'centroid') return proto[c];
      if (method === 'linear') return rank[c];
      const near = this.nearest(vec, c);
      return method === 'knn' ? near : (proto[c] + near) / 2;
    };
    const top = order.slice(0, top_k).map((c) => ({ intent: this.categories[c].name, score: score(c) }));
    const best = order[0];
    // An absent runner-up counts as the lowest value on the ranking scale (-1 similarity, 0 probability).
    const floor = method === 'knn' || method === 'centroid' ? -1 : 0;
    const second = order.length > 1 ? valueAt(rank, order[1]) : -Infinity;
    const margin = valueAt(rank, best) - (Number.isFinite(second) ? second : floor);
    const winnerScore = top[0].score;
    const accepted = winnerScore >= this.thresholds[best] && margin >= min_margin;
    return {
      intent: accepted ? this.categories[best].name : NONE_INTENT,
      score: winnerScore,
      margin,
      top,
      metadata: accepted ? this.categories[best].metadata : {},
    };
  }

  /** Similarity to the nearest reference of category c: from the HNSW neighbours when present, else a filtered search. */
  private nearest(vec: Float32Array, c: number): number {
    const known = this.scratch.nn[c];
    if (!Number.isNaN(known)) return known;
    const hit = this.index.search(vec, 1, (label) => this.labelOf[label] === c)[0];
    const s = hit ? hit.score : -1;
    this.scratch.nn[c] = s;
    return s;
  }
}

/** Indices of the n largest values (NaN counts as lowest), best first. */
export function topIndices(values: Float32Array, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (out.length < n) out.push(i);
    else if (valueAt(values, i) > valueAt(values, out[n - 1])) out[n - 1] = i;
    else continue;
    for (let j = out.length - 1; j > 0 && valueAt(values, out[j - 1]) < valueAt(values, out[j]); j--) {
      const t = out[j];
      out[j] = out[j - 1];
      out[j - 1] = t;
    }
  }
  return out;
}

const valueAt = (values: Float32Array, i: number): number => (Number.isNaN(values[i]) ? -Infinity : values[i]);
