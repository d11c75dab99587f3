/**
 * The learned pair scorer: a small gradient-boosted tree ensemble over the pair features (./pair-features.ts) that says how
 * likely a cached question asks the same thing as a new one. The model is plain JSON (see PairModel) so it can be refitted
 * on an operator's own labelled pairs (`switchyard cache-eval --fit`) and loaded from a file; the shipped one lives in
 * ./pair-weights.ts. Scoring walks each tree from its root (a few hundred comparisons per candidate) after one pass over
 * the two embeddings for the vector features.
 */
import { readFileSync } from 'node:fs';
import { PAIR_FEATURES, pairFeatures, vectorTerms, type PairVectors } from './pair-features.js';
import type { QuestionFeatures } from './guard.js';

/** A tree node: [feature index (into the model's `features`), split value, left (value ≤ split), right], or a leaf value. */
export type TreeNode = number | [number, number, TreeNode, TreeNode];

export interface PairModel {
  kind: 'gbdt';
  version: 1;
  /** Names of the features the trees index, from PAIR_FEATURES. */
  features: string[];
  /** Log-odds before any tree. */
  base: number;
  /** Shrinkage applied to every tree's output. */
  rate: number;
  trees: TreeNode[];
  /**
   * The linear vector score (feature `vector_score`): bias + weights · [products, absolute differences] of the two unit
   * vectors, 2 × dim weights. Absent: the feature stays unknown (NaN).
   */
  vector?: { bias: number; weights: number[] };
  /** Default decision: serve when the probability reaches this (cache.guard.min_score overrides it). */
  cutoff: number;
  /** The similarity threshold the cutoff was chosen at (informational). */
  threshold: number;
  /**
   * Dimensions of the embedder whose similarities the model was fitted on. Similarities from another embedder are not on
   * the same scale, so a cache whose vectors differ in size falls back to the rules.
   */
  dim: number;
  /** The embedder it was fitted with; when it differs from the serving embedder's id the cache does not use the model. */
  embedder?: string;
  /** How the model was fitted (informational). */
  fitted?: Record<string, unknown>;
}

/** A model ready to score: its features mapped to positions in a PAIR_FEATURES row. */
export interface PairScorer {
  readonly model: PairModel;
  /** Probability that the pair is a duplicate; without the two embeddings their features are unknown. */
  score(query: QuestionFeatures, cached: QuestionFeatures, similarity: number, vectors?: PairVectors): number;
  /** The same from a feature row in PAIR_FEATURES order. */
  scoreRow(row: Float64Array): number;
}

function checkNode(n: unknown, nFeatures: number, depth: number): n is TreeNode {
  if (typeof n === 'number') return Number.isFinite(n);
  if (!Array.isArray(n) || n.length !== 4 || depth > 32) return false;
  const [f, t, l, r] = n as unknown[];
  return Number.isInteger(f) && (f as number) >= 0 && (f as number) < nFeatures && typeof t === 'number' && Number.isFinite(t) &&
    checkNode(l, nFeatures, depth + 1) && checkNode(r, nFeatures, depth + 1);
}

/** Validates a parsed model; throws with the first problem found. */
export function parsePairModel(raw: unknown, source = 'pair model'): PairModel {
  const m = raw as Partial<PairModel> | null;
  const fail = (why: string): never => { throw new Error(`${source}: ${why}`); };
  if (m === null || typeof m !== 'object') return fail('not a JSON object');
  if (m.kind !== 'gbdt' || m.version !== 1) fail('expected "kind": "gbdt", "version": 1');
  if (!Array.isArray(m.features) || m.features.length === 0) fail('"features" must be a non-empty list');
  for (const f of m.features!) {
    if (!(PAIR_FEATURES as readonly string[]).includes(f)) fail(`unknown feature "${String(f)}" (known: ${PAIR_FEATURES.join(', ')})`);
  }
  for (const k of ['base', 'rate', 'cutoff', 'threshold'] as const) {
    if (typeof m[k] !== 'number' || !Number.isFinite(m[k])) fail(`"${k}" must be a number`);
  }
  if (m.cutoff! < 0 || m.cutoff! > 1) fail('"cutoff" must be a probability in [0, 1]');
  if (!Number.isInteger(m.dim) || m.dim! < 1) fail('"dim" must be a positive integer');
  if (!Array.isArray(m.trees)) fail('"trees" must be a list');
  m.trees!.forEach((t, i) => { if (!checkNode(t, m.features!.length, 0)) fail(`tree ${i} is malformed`); });
  if (m.vector !== undefined) {
    const v = m.vector;
    if (typeof v !== 'object' || v === null || typeof v.bias !== 'number' || !Number.isFinite(v.bias) || !Array.isArray(v.weights) ||
        v.weights.length !== 2 * m.dim! || !v.weights.every((w) => typeof w === 'number' && Number.isFinite(w))) {
      fail(`"vector" must be {"bias": number, "weights": ${2 * m.dim!} numbers}`);
    }
  }
  return m as PairModel;
}

/** Reads and validates a model file (JSON). */
export function loadPairModel(file: string): PairModel {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) {
    throw new Error(`cannot read pair model ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try { raw = JSON.parse(text); } catch { throw new Error(`${file}: not valid JSON`); }
  return parsePairModel(raw, file);
}

function leafOf(node: TreeNode, row: Float64Array, at: Int32Array): number {
  let n = node;
  while (typeof n !== 'number') n = row[at[n[0]]] <= n[1] ? n[2] : n[3];
  return n;
}

/** The log-odds of a row; `at` maps the model's feature indices to row positions. */
export function logOdds(model: PairModel, row: Float64Array, at: Int32Array): number {
  let s = 0;
  for (const t of model.trees) s += leafOf(t, row, at);
  return model.base + model.rate * s;
}

/** The model's vector score of a pair. */
export function vectorScore(vector: NonNullable<PairModel['vector']>, v: PairVectors): number {
  return vectorTerms(v, undefined, vector.weights, vector.bias).score;
}

export function createPairScorer(model: PairModel): PairScorer {
  const at = Int32Array.from(model.features, (f) => (PAIR_FEATURES as readonly string[]).indexOf(f));
  // Scratch space per scorer: scoring is synchronous, so calls never interleave.
  const row = new Float64Array(PAIR_FEATURES.length);
  // Typed weights: the per-candidate loop reads them with the vectors' element type fixed.
  const vector = model.vector && { bias: model.vector.bias, weights: Float64Array.from(model.vector.weights) };
  const scoreRow = (r: Float64Array) => 1 / (1 + Math.exp(-logOdds(model, r, at)));
  return {
    model,
    scoreRow,
    score: (query, cached, similarity, vectors) => {
      const usable = vectors !== undefined && vectors.query.length === model.dim;
      return scoreRow(pairFeatures(query, cached, similarity, row, usable ? vectors : undefined, vector));
    },
  };
}
