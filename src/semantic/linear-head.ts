/**
 * Multinomial logistic regression over unit-length embeddings, trained at load time. Weights start at the class prototypes
 * scaled by `scale` (so the untrained head already equals a softmax over centroid similarities) and are refined with
 * mini-batch Adam on cross-entropy plus an L2 pull towards that start, which keeps few-shot heads close to the prototypes.
 *
 * Optionally the head also reads a sparse lexical vector per example (see lexical.ts): its logits add `W_lex · x_lex`, with
 * W_lex starting at the lexical prototypes scaled by `lexicalScale` and trained alongside (lazy Adam: only the rows of
 * features present in a batch are updated, so the cost follows the number of non-zeros, not the hashed width).
 */
import type { SparseVector } from './lexical.js';

export interface LinearHead {
  classes: number;
  dim: number;
  /** Row-major [classes, dim]. */
  weights: Float32Array;
  bias: Float32Array;
  /** The lexical part, when trained with one: feature-major [features, classes] (a feature's class weights are adjacent). */
  lexical?: { dim: number; weights: Float32Array };
}

export interface TrainOptions {
  epochs: number;
  learningRate: number;
  /** Strength of the pull towards the prototype start. */
  l2: number;
  batch: number;
  /** Initial logit scale of the prototypes. */
  scale: number;
  /** Initial logit scale of the lexical prototypes (lexical part only). */
  lexicalScale: number;
  seed: number;
}

export const DEFAULT_TRAIN: TrainOptions = { epochs: 30, learningRate: 0.01, l2: 1e-4, batch: 64, scale: 16, lexicalScale: 8, seed: 7 };

/** Normalised per-class mean vectors, row-major [classes, dim]. */
export function prototypes(vectors: Float32Array[], labels: Int32Array, classes: number, dim: number, weights?: Float32Array): Float32Array {
  const out = new Float32Array(classes * dim);
  for (let i = 0; i < vectors.length; i++) {
    const off = labels[i] * dim;
    const v = vectors[i];
    const w = weights ? weights[i] : 1;
    for (let d = 0; d < dim; d++) out[off + d] += w * v[d];
  }
  for (let c = 0; c < classes; c++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += out[c * dim + d] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dim; d++) out[c * dim + d] *= inv;
  }
  return out;
}

/** out[c] = W[c]·x + b[c] (+ W_lex[c]·lex when the head has a lexical part and `lex` is given) for every class. */
export function linearScores(head: LinearHead, x: Float32Array, out: Float32Array, lex?: SparseVector): Float32Array {
  const { weights, bias, dim, classes } = head;
  for (let c = 0; c < classes; c++) {
    let s = bias[c];
    const off = c * dim;
    for (let d = 0; d < dim; d++) s += weights[off + d] * x[d];
    out[c] = s;
  }
  if (head.lexical && lex) {
    const L = head.lexical.weights;
    for (let i = 0; i < lex.index.length; i++) {
      const off = lex.index[i] * classes;
      const v = lex.value[i];
      for (let c = 0; c < classes; c++) out[c] += L[off + c] * v;
    }
  }
  return out;
}

/** Normalised per-class mean of sparse vectors, feature-major [features, classes]. */
export function sparsePrototypes(vectors: SparseVector[], labels: Int32Array, classes: number, dim: number, weights?: Float32Array): Float32Array {
  const out = new Float32Array(dim * classes);
  for (let i = 0; i < vectors.length; i++) {
    const { index, value } = vectors[i];
    const w = weights ? weights[i] : 1;
    for (let j = 0; j < index.length; j++) out[index[j] * classes + labels[i]] += w * value[j];
  }
  const norm = new Float64Array(classes);
  for (let f = 0; f < dim; f++) for (let c = 0; c < classes; c++) norm[c] += out[f * classes + c] ** 2;
  for (let c = 0; c < classes; c++) norm[c] = norm[c] > 0 ? 1 / Math.sqrt(norm[c]) : 0;
  for (let f = 0; f < dim; f++) for (let c = 0; c < classes; c++) out[f * classes + c] *= norm[c];
  return out;
}

/** In-place softmax. */
export function softmax(v: Float32Array): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] > max) max = v[i];
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] = Math.exp(v[i] - max);
  for (let i = 0; i < v.length; i++) v[i] /= sum;
  return v;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Per-example loss weights that give every class the same total weight (the mean class size): a class with few examples
 * is not outvoted by one with many, so the head does not learn the references' class sizes as a prior (requests are
 * scored per category, not in proportion to how many examples a folder happens to have). Classes in `keep` (the explicit
 * out-of-scope category, whose size sets how much the folder rejects) weigh 1 per example and do not count in the mean.
 */
export function classBalanceWeights(labels: Int32Array, classes: number, keep: ReadonlySet<number> = new Set()): Float32Array {
  const size = new Float64Array(classes);
  labels.forEach((c) => size[c]++);
  let total = 0;
  let counted = 0;
  size.forEach((m, c) => {
    if (m > 0 && !keep.has(c)) [total, counted] = [total + m, counted + 1];
  });
  const mean = counted > 0 ? total / counted : 1;
  return Float32Array.from(labels, (c) => (keep.has(c) ? 1 : mean / size[c]));
}

/**
 * Trains the head. `startWeights` (default 1 each) weigh the examples in the prototypes the head starts from;
 * `lossWeights` (default 1 each) weigh them in the training loss. Asynchronous: it yields to the event loop after every mini-batch, so training a large set
 * off the hot path never stalls requests for more than a few milliseconds.
 */
export async function trainLinearHead(
  vectors: Float32Array[],
  labels: Int32Array,
  classes: number,
  dim: number,
  options: Partial<TrainOptions> = {},
  lexical?: { vectors: SparseVector[]; dim: number },
  startWeights?: Float32Array,
  lossWeights?: Float32Array,
): Promise<LinearHead> {
  const o = { ...DEFAULT_TRAIN, ...options };
  const start = prototypes(vectors, labels, classes, dim, startWeights);
  for (let i = 0; i < start.length; i++) start[i] *= o.scale;
  const head: LinearHead = { classes, dim, weights: Float32Array.from(start), bias: new Float32Array(classes) };
  let lex: { start: Float32Array; W: Float32Array; g: Float32Array; m: Float32Array; v: Float32Array; touched: Uint8Array; rows: number[] } | undefined;
  if (lexical) {
    if (lexical.vectors.length !== vectors.length) throw new Error('trainLinearHead: one lexical vector per example is needed');
    const ls = sparsePrototypes(lexical.vectors, labels, classes, lexical.dim, startWeights);
    for (let i = 0; i < ls.length; i++) ls[i] *= o.lexicalScale;
    head.lexical = { dim: lexical.dim, weights: Float32Array.from(ls) };
    const n = ls.length;
    lex = { start: ls, W: head.lexical.weights, g: new Float32Array(n), m: new Float32Array(n), v: new Float32Array(n), touched: new Uint8Array(lexical.dim), rows: [] };
  }
  if (o.epochs <= 0 || vectors.length === 0) return head;
  const n = vectors.length;
  const W = head.weights;
  const gW = new Float32Array(W.length);
  const gb = new Float32Array(classes);
  const mW = new Float32Array(W.length);
  const vW = new Float32Array(W.length);
  const mb = new Float32Array(classes);
  const vb = new Float32Array(classes);
  const p = new Float32Array(classes);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const rand = rng(o.seed);
  const b1 = 0.9;
  const b2 = 0.999;
  let step = 0;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (let s = 0; s < n; s += o.batch) {
      const e = Math.min(n, s + o.batch);
      gW.fill(0);
      gb.fill(0);
      for (let r = s; r < e; r++) {
        const x = vectors[order[r]];
        const sx = lexical?.vectors[order[r]];
        softmax(linearScores(head, x, p, sx));
        p[labels[order[r]]] -= 1;
        const w = lossWeights ? lossWeights[order[r]] : 1;
        if (w !== 1) for (let c = 0; c < classes; c++) p[c] *= w;
        for (let c = 0; c < classes; c++) {
          const g = p[c];
          if (Math.abs(g) < 1e-6) continue;
          gb[c] += g;
          const off = c * dim;
          for (let d = 0; d < dim; d++) gW[off + d] += g * x[d];
        }
        if (lex && sx) {
          for (let j = 0; j < sx.index.length; j++) {
            const f = sx.index[j];
            if (!lex.touched[f]) {
              lex.touched[f] = 1;
              lex.rows.push(f);
            }
            const off = f * classes;
            const xv = sx.value[j];
            for (let c = 0; c < classes; c++) if (Math.abs(p[c]) >= 1e-6) lex.g[off + c] += p[c] * xv;
          }
        }
      }
      const inv = 1 / (e - s);
      step++;
      await yieldToLoop();
      const c1 = 1 / (1 - b1 ** step);
      const c2 = 1 / (1 - b2 ** step);
      for (let i = 0; i < W.length; i++) {
        const g = gW[i] * inv + o.l2 * (W[i] - start[i]);
        mW[i] = b1 * mW[i] + (1 - b1) * g;
        vW[i] = b2 * vW[i] + (1 - b2) * g * g;
        W[i] -= (o.learningRate * mW[i] * c1) / (Math.sqrt(vW[i] * c2) + 1e-8);
      }
      if (lex) {
        const { W: L, g: gL, m: mL, v: vL, start: sL } = lex;
        for (const f of lex.rows) {
          const off = f * classes;
          for (let i = off; i < off + classes; i++) {
            const g = gL[i] * inv + o.l2 * (L[i] - sL[i]);
            gL[i] = 0;
            mL[i] = b1 * mL[i] + (1 - b1) * g;
            vL[i] = b2 * vL[i] + (1 - b2) * g * g;
            L[i] -= (o.learningRate * mL[i] * c1) / (Math.sqrt(vL[i] * c2) + 1e-8);
          }
          lex.touched[f] = 0;
        }
        lex.rows.length = 0;
      }
      for (let c = 0; c < classes; c++) {
        const g = gb[c] * inv;
        mb[c] = b1 * mb[c] + (1 - b1) * g;
        vb[c] = b2 * vb[c] + (1 - b2) * g * g;
        head.bias[c] -= (o.learningRate * mb[c] * c1) / (Math.sqrt(vb[c] * c2) + 1e-8);
      }
    }
  }
  return head;
}

