/**
 * Multinomial logistic regression over unit-length embeddings, trained at load time. Weights start at the class prototypes
 * scaled by `scale` (so the untrained head already equals a softmax over centroid similarities) and are refined with
 * mini-batch Adam on cross-entropy plus an L2 pull towards that start, which keeps few-shot heads close to the prototypes.
 */

export interface LinearHead {
  classes: number;
  dim: number;
  /** Row-major [classes, dim]. */
  weights: Float32Array;
  bias: Float32Array;
}

export interface TrainOptions {
  epochs: number;
  learningRate: number;
  /** Strength of the pull towards the prototype start. */
  l2: number;
  batch: number;
  /** Initial logit scale of the prototypes. */
  scale: number;
  seed: number;
}

export const DEFAULT_TRAIN: TrainOptions = { epochs: 30, learningRate: 0.01, l2: 1e-4, batch: 64, scale: 16, seed: 7 };

/** Normalised per-class mean vectors, row-major [classes, dim]. */
export function prototypes(vectors: Float32Array[], labels: Int32Array, classes: number, dim: number): Float32Array {
  const out = new Float32Array(classes * dim);
  for (let i = 0; i < vectors.length; i++) {
    const off = labels[i] * dim;
    const v = vectors[i];
    for (let d = 0; d < dim; d++) out[off + d] += v[d];
  }
  for (let c = 0; c < classes; c++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += out[c * dim + d] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dim; d++) out[c * dim + d] *= inv;
  }
  return out;
}

/** out[c] = W[c]·x + b[c] for every class. */
export function linearScores(head: LinearHead, x: Float32Array, out: Float32Array): Float32Array {
  const { weights, bias, dim, classes } = head;
  for (let c = 0; c < classes; c++) {
    let s = bias[c];
    const off = c * dim;
    for (let d = 0; d < dim; d++) s += weights[off + d] * x[d];
    out[c] = s;
  }
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
 * Trains the head. Asynchronous: it yields to the event loop after every mini-batch, so training a large set off the hot
 * path never stalls requests for more than a few milliseconds.
 */
export async function trainLinearHead(
  vectors: Float32Array[],
  labels: Int32Array,
  classes: number,
  dim: number,
  options: Partial<TrainOptions> = {},
): Promise<LinearHead> {
  const o = { ...DEFAULT_TRAIN, ...options };
  const start = prototypes(vectors, labels, classes, dim);
  for (let i = 0; i < start.length; i++) start[i] *= o.scale;
  const head: LinearHead = { classes, dim, weights: Float32Array.from(start), bias: new Float32Array(classes) };
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
        softmax(linearScores(head, x, p));
        p[labels[order[r]]] -= 1;
        for (let c = 0; c < classes; c++) {
          const g = p[c];
          if (Math.abs(g) < 1e-6) continue;
          gb[c] += g;
          const off = c * dim;
          for (let d = 0; d < dim; d++) gW[off + d] += g * x[d];
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

