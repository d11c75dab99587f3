/**
 * Intent classifier over the embedded reference prompts. Per query it computes, for each category:
 *  - `prototype`: cosine similarity to the category's normalised mean vector;
 *  - `neighbour`: cosine similarity to its nearest reference (HNSW neighbours, an exact scan of the category when needed);
 *  - `probability`: a multinomial logistic head trained at load time (see linear-head.ts).
 * Methods: `knn` ranks by neighbour similarity, `centroid` by prototype similarity, `linear` by probability and `blend`
 * (default) ranks by probability and scores by the winner's head logit over the head's full-match logit (`headScore`),
 * which measured best on CLINC150: the probability separates close categories, the logit rejects out-of-scope text (it
 * reads wording as well as meaning, and unlike the probability it is not normalised away when every category fits badly).
 * The winner is accepted when its score reaches its category's threshold (else the global one) and its margin reaches
 * `min_margin`; otherwise intent is `none`. A category named `none` (a folder's explicit out-of-scope examples) is ranked
 * like any other, and its win is a rejection; it never appears in `top`.
 *
 * With `lexical` on and the reference texts given, the head also reads hashed word and character n-grams of the text
 * (lexical.ts), so `classify(vec, text)` ranks by embedding and wording together; without the text it ranks by the
 * embedding part of the same head.
 */
import { LexicalFeaturizer, type SparseVector } from './lexical.js';
import { VectorIndex } from './vector-index.js';
import { classBalanceWeights, linearScores, prototypes, softmax, trainLinearHead, type LinearHead, type TrainOptions } from './linear-head.js';
import { FITTED_HEAD } from './head-constants.js';
import { headTrainOptions, type HeadConstants } from './head-options.js';
import { categoryNameText } from './text.js';
import { DEFAULT_CALIBRATION, crossFitScores, lowerQuantiles } from './calibration.js';

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
  /** Train the head on lexical features of the reference texts too (when the texts are given to build). */
  lexical?: boolean;
  /**
   * blend: calibrate per-category thresholds from the references (calibration.ts); a category without its own threshold
   * is then accepted at min(threshold, its calibrated bound).
   */
  calibrate?: boolean;
  /** The calibration's quantile (default DEFAULT_CALIBRATION.quantile). */
  calibration_quantile?: number;
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

/**
 * Built-in global thresholds per method, used when neither config nor the reference folder sets one. The blend value is
 * for the default head with a lexical part; see `defaultThreshold` for one without.
 */
export const DEFAULT_THRESHOLD: Record<ClassifierMethod, number> = { blend: 0.4, knn: 0.55, centroid: 0.5, linear: 0.3 };

/**
 * The built-in global threshold for a method and head. A blend head on the embedding alone scores on a higher scale
 * (its logit over 16 is about the prototype similarity; the lexical head divides by 21 and most requests share only part
 * of a category's wording): `fit` picks about 0.6 for it on CLINC150 at 70% out-of-scope recall, against 0.41 with the
 * lexical part.
 */
export function defaultThreshold(method: ClassifierMethod, lexical: boolean): number {
  return method === 'blend' && !lexical ? 0.6 : DEFAULT_THRESHOLD[method];
}

export const NONE_INTENT = 'none';
/** The intent of a request whose embedding could not be had within its semantic budget (never a category's name). */
export const UNAVAILABLE_INTENT = 'unavailable';

/** Head training overrides: optimiser options (linear-head.ts) and any of the fitted head constants (head-constants.ts). */
export type HeadTraining = Partial<TrainOptions> & Partial<HeadConstants>;

/** Per-reference start weights: `weight` for an example equal to its category's name as text, else 1. */
export function nameStartWeights(categories: ClassifierCategory[], texts: string[][], weight = FITTED_HEAD.nameStartWeight): Float32Array {
  const out = new Float32Array(texts.reduce((n, t) => n + t.length, 0)).fill(1);
  let at = 0;
  texts.forEach((ts, c) => {
    const name = categoryNameText(categories[c].name);
    ts.forEach((t, i) => {
      if (name !== '' && t === name) out[at + i] = weight;
    });
    at += ts.length;
  });
  return out;
}

/** What the references give: built once per set and shared by every classifier view of that set. */
interface ReferenceModel {
  dim: number;
  refs: Float32Array[];
  /** Category index of each reference (the HNSW label is the reference's position). */
  labelOf: Int32Array;
  /** Reference positions of each category. */
  members: Int32Array[];
  protos: Float32Array;
  index: VectorIndex;
  head: LinearHead | undefined;
  /** Fitted on the reference texts when the head has a lexical part. */
  featurizer: LexicalFeaturizer | undefined;
  /** The head's logit for a query equal to a category's start prototype in every part: divides logits into `score`. */
  logitScale: number;
  /** Per-category calibrated lower bounds of the score (NaN: none), when calibrated. */
  calibrated: Float64Array | undefined;
}

export class IntentClassifier {
  private readonly thresholds: Float64Array;
  /** Index of the `none` category (explicit out-of-scope examples), -1 when the folder has none. */
  private readonly noneAt: number;
  private readonly scratch: { lin: Float32Array; logits: Float32Array; proto: Float32Array; nn: Float32Array };

  private constructor(
    private readonly model: ReferenceModel,
    readonly categories: ClassifierCategory[],
    readonly settings: ClassifierSettings,
  ) {
    const C = categories.length;
    const bound = settings.calibrate ? model.calibrated : undefined;
    this.thresholds = Float64Array.from(categories, (c, i) =>
      c.threshold ?? (bound && !Number.isNaN(bound[i]) ? Math.min(settings.threshold, bound[i]) : settings.threshold));
    this.noneAt = categories.findIndex((c) => c.name === NONE_INTENT);
    this.scratch = { lin: new Float32Array(C), logits: new Float32Array(C), proto: new Float32Array(C), nn: new Float32Array(C) };
  }

  /**
   * Builds the classifier; `vectors[c]` are the unit-length reference embeddings of `categories[c]`. For `blend` and
   * `linear` the logistic head is trained before this resolves; use `buildDeferred` to get a usable classifier first.
   */
  static async build(
    categories: ClassifierCategory[],
    vectors: Float32Array[][],
    dim: number,
    settings: ClassifierSettings,
    index: IndexSettings,
    train: HeadTraining = {},
    texts?: string[][],
  ): Promise<IntentClassifier> {
    const { ready, trained } = IntentClassifier.buildDeferred(categories, vectors, dim, settings, index, train, texts);
    return (await trained) ?? ready;
  }

  /**
   * `ready` ranks by prototype similarity until the head exists; `trained` resolves to the same classifier with the head
   * (or undefined when the method needs none). Lets a service start serving while the head trains. `texts[c][i]` is the
   * text of `vectors[c][i]`; given, and with `settings.lexical`, the head is trained on lexical features too.
   */
  static buildDeferred(
    categories: ClassifierCategory[],
    vectors: Float32Array[][],
    dim: number,
    settings: ClassifierSettings,
    indexSettings: IndexSettings,
    train: HeadTraining = {},
    texts?: string[][],
  ): { ready: IntentClassifier; trained: Promise<IntentClassifier | undefined> } {
    if (texts && (texts.length !== vectors.length || texts.some((t, c) => t.length !== vectors[c].length))) {
      throw new Error('IntentClassifier: texts must match vectors one to one');
    }
    const refs = vectors.flat();
    const labelOf = new Int32Array(refs.length);
    let at = 0;
    vectors.forEach((vs, c) => vs.forEach(() => (labelOf[at++] = c)));
    const C = categories.length;
    const index = new VectorIndex({
      dim,
      M: indexSettings.M,
      efConstruction: indexSettings.ef_construction,
      efSearch: indexSettings.ef_search,
      initialCapacity: refs.length,
    });
    refs.forEach((v, i) => index.add(i, v));
    const members = vectors.map(() => [] as number[]);
    labelOf.forEach((c, i) => members[c].push(i));
    const model: ReferenceModel = {
      dim,
      refs,
      labelOf,
      members: members.map((m) => Int32Array.from(m)),
      protos: prototypes(refs, labelOf, C, dim),
      index,
      head: undefined,
      featurizer: undefined,
      logitScale: 1,
      calibrated: undefined,
    };
    const ready = new IntentClassifier(model, categories, settings);
    if (!((settings.method === 'blend' || settings.method === 'linear') && C > 1)) return { ready, trained: Promise.resolve(undefined) };
    const allTexts = settings.lexical && texts ? texts.flat() : undefined;
    // Featurising runs after `ready` is handed out, like the training itself.
    const trained = Promise.resolve().then(async () => {
      const featurizer = allTexts ? LexicalFeaturizer.fit(allTexts) : undefined;
      const lexical = featurizer && allTexts ? { vectors: allTexts.map((t) => featurizer.transform(t)), dim: featurizer.dim } : undefined;
      const { nameStartWeight, lexicalSteps, ...optimiser } = train;
      const constants: HeadConstants = { ...FITTED_HEAD, ...(lexicalSteps === undefined ? {} : { lexicalSteps }) };
      const options = headTrainOptions(refs.length, lexical !== undefined, constants, optimiser);
      const start = texts ? nameStartWeights(categories, texts, nameStartWeight ?? FITTED_HEAD.nameStartWeight) : undefined;
      const noneAt = categories.findIndex((c) => c.name === NONE_INTENT);
      const balance = classBalanceWeights(labelOf, C, new Set(noneAt >= 0 ? [noneAt] : []));
      const head = await trainLinearHead(refs, labelOf, C, dim, options, lexical, start, balance);
      const logitScale = options.scale + (lexical ? options.lexicalScale : 0);
      const calibrated = settings.calibrate && settings.method === 'blend'
        ? lowerQuantiles(await crossFitScores({
          refs, labelOf, classes: C, dim, texts: allTexts, train: options, startWeights: start, lossWeights: balance, score: (l) => headScore(l, logitScale),
        }), settings.calibration_quantile ?? DEFAULT_CALIBRATION.quantile)
        : undefined;
      return new IntentClassifier({ ...model, head, featurizer, logitScale, calibrated }, categories, settings);
    });
    return { ready, trained };
  }

  /** Whether the head reads lexical features of the text as well as the embedding. */
  get lexical(): boolean {
    return this.model.head?.lexical !== undefined;
  }

  /** Whether the logistic head is in use (false while it trains, and for knn/centroid). */
  get trained(): boolean {
    return this.model.head !== undefined;
  }

  get dim(): number {
    return this.model.dim;
  }

  /** The threshold each category is accepted at (its own, else the global one, calibrated when configured). */
  get thresholdsInUse(): ReadonlyArray<number> {
    return [...this.thresholds];
  }

  /** The same references and head with other thresholds (for fitting and evaluation without retraining). */
  withSettings(settings: ClassifierSettings, categories: ClassifierCategory[] = this.categories): IntentClassifier {
    return new IntentClassifier(this.model, categories, settings);
  }

  get size(): number {
    return this.model.refs.length;
  }

  /**
   * Classifies a query embedding; `text` (the text that was embedded) lets a head with a lexical part read its wording too.
   */
  classify(vec: Float32Array, text?: string): Classification {
    const { method, k, min_margin, top_k } = this.settings;
    const C = this.categories.length;
    const { lin, logits, proto, nn } = this.scratch;
    const { dim, protos, index, labelOf, head, featurizer, logitScale } = this.model;
    if (C === 0) return { intent: NONE_INTENT, score: 0, margin: 0, top: [], metadata: {} };
    // A trained blend/linear head needs neither the prototypes nor the neighbours: skip both (most of the cost).
    const byHead = (method === 'blend' || method === 'linear') && head !== undefined;
    if (!byHead) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        const off = c * dim;
        for (let d = 0; d < dim; d++) s += vec[d] * protos[off + d];
        proto[c] = s;
      }
    }
    nn.fill(NaN);
    if (method === 'knn' || (method === 'blend' && !byHead)) {
      for (const n of index.search(vec, k)) {
        const c = labelOf[n.label];
        if (!(nn[c] >= n.score)) nn[c] = n.score;
      }
    }
    // The ranking: what orders the categories. The score: what thresholds accept.
    // `ranked` names the scale of `rank`: blend and linear rank by prototype similarity while their head trains.
    let rank: Float32Array;
    let ranked: ClassifierMethod;
    if (method === 'knn') [rank, ranked] = [nn, 'knn'];
    else if (byHead) {
      const lex: SparseVector | undefined = featurizer && text !== undefined ? featurizer.transform(text) : undefined;
      linearScores(head, vec, logits, lex);
      lin.set(logits);
      [rank, ranked] = [softmax(lin), 'linear'];
    }
    else [rank, ranked] = [proto, 'centroid'];
    const order = topIndices(rank, Math.max(2, top_k) + (this.noneAt >= 0 ? 1 : 0));
    const score = (c: number): number => {
      if (method === 'centroid') return proto[c];
      if (method === 'linear') return ranked === 'linear' ? rank[c] : proto[c];
      if (method === 'blend' && byHead) return headScore(logits[c], logitScale);
      const near = this.nearest(vec, c);
      return method === 'knn' ? near : (proto[c] + near) / 2;
    };
    const top = order.filter((c) => c !== this.noneAt).slice(0, top_k).map((c) => ({ intent: this.categories[c].name, score: score(c) }));
    const best = order[0];
    // An absent runner-up counts as the lowest value on the ranking scale (-1 similarity, 0 probability).
    const floor = ranked === 'linear' ? 0 : -1;
    const second = order.length > 1 ? valueAt(rank, order[1]) : -Infinity;
    const margin = valueAt(rank, best) - (Number.isFinite(second) ? second : floor);
    const winnerScore = best === this.noneAt ? score(best) : top[0].score;
    const accepted = best !== this.noneAt && winnerScore >= this.thresholds[best] && margin >= min_margin;
    return {
      intent: accepted ? this.categories[best].name : NONE_INTENT,
      score: winnerScore,
      margin,
      top,
      metadata: accepted ? this.categories[best].metadata : {},
    };
  }

  /**
   * Similarity to the nearest reference of category c: from the HNSW neighbours when present, else an exact scan of that
   * category's references (tens of dot products; cheaper than a filtered graph search calling back into JS per node).
   */
  private nearest(vec: Float32Array, c: number): number {
    const known = this.scratch.nn[c];
    if (!Number.isNaN(known)) return known;
    const { refs, members, dim } = this.model;
    let best = -1;
    for (const i of members[c]) {
      const r = refs[i];
      let s = 0;
      for (let d = 0; d < dim; d++) s += vec[d] * r[d];
      if (s > best) best = s;
    }
    this.scratch.nn[c] = best;
    return best;
  }
}

/**
 * The blend score of a category: its head logit over the logit a query equal to the category's start prototypes would
 * get (`logitScale`: 16 for the embedding part + 5 for the lexical part), clipped to [-1, 1]. Before training that is
 * about the prototype similarity of meaning and wording; training sharpens it. Unlike the probability it is not
 * normalised across categories, so a request that fits every category badly scores low (out-of-scope rejection).
 */
export const headScore = (logit: number, logitScale: number): number => Math.max(-1, Math.min(1, logit / logitScale));

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
