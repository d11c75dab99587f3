/**
 * A linear projection of an embedder's vectors onto their principal subspace (the top eigenvectors of the second-moment
 * matrix of a corpus of its embeddings). Sentence embeddings use a small part of their dimensions: for USE-lite, 128 of
 * 512 directions keep about 87% of the energy of questions from a corpus the basis never saw. A cache index searches the
 * projected vectors (a quarter of the bytes read per distance, which is what a lookup spends its time on) and re-scores
 * the best few candidates with the full vectors, so the similarities it returns are exact.
 *
 * A projection belongs to one embedder: its basis means nothing for another's vectors.
 */
import { simdProjector, type ProjectFn } from './projection-kernel.js';
import { DEFAULT_PROJECTION } from './projection-weights.js';

/** A projection as stored: the basis rows quantised to int8 with one scale per row (the ranking it feeds is re-scored). */
export interface ProjectionModel {
  kind: 'pca';
  version: 1;
  embedder: string;
  /** Input dimensions. */
  dim: number;
  /** Output dimensions (basis rows). */
  dims: number;
  /** Per row: the value an int8 step stands for. */
  scales: number[];
  /** dims x dim int8 values, row-major, base64. */
  basis: string;
  /** Share of the fitting corpus's energy the rows keep. */
  kept: number;
  fitted: { texts: number; files: string[] };
}

export interface Projection {
  readonly embedder: string;
  readonly dim: number;
  readonly dims: number;
  /** dims x dim, row-major (doubles: the projection loop runs about 20% faster than on floats). */
  readonly basis: Float64Array;
  /** The same product in WebAssembly SIMD, when the runtime has it (./projection-kernel.ts). */
  readonly kernel?: ProjectFn;
}

export function decodeProjection(m: ProjectionModel): Projection {
  if (m.kind !== 'pca' || m.version !== 1) throw new Error(`projection: unknown kind ${String(m.kind)} v${String(m.version)}`);
  const raw = Buffer.from(m.basis, 'base64');
  if (raw.length !== m.dims * m.dim || m.scales.length !== m.dims) {
    throw new Error(`projection: expected ${m.dims} x ${m.dim} values and ${m.dims} scales, got ${raw.length} and ${m.scales.length}`);
  }
  const q = new Int8Array(raw.buffer, raw.byteOffset, raw.length);
  const basis = new Float64Array(q.length);
  for (let r = 0; r < m.dims; r++) {
    const s = m.scales[r];
    for (let c = 0; c < m.dim; c++) basis[r * m.dim + c] = q[r * m.dim + c] * s;
  }
  return { embedder: m.embedder, dim: m.dim, dims: m.dims, basis, kernel: simdProjector(basis, m.dim, m.dims) };
}

/** `out` = basis x v. */
export function project(p: Projection, v: ArrayLike<number>, out: Float32Array): Float32Array {
  return p.kernel !== undefined ? p.kernel(v, out) : projectJs(p, v, out);
}

/** The portable loop, four rows at a time: one pass over v serves four dot products. */
export function projectJs(p: Projection, v: ArrayLike<number>, out: Float32Array): Float32Array {
  const { basis, dim, dims } = p;
  let r = 0;
  for (; r + 4 <= dims; r += 4) {
    const o0 = r * dim, o1 = o0 + dim, o2 = o1 + dim, o3 = o2 + dim;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let c = 0; c < dim; c++) {
      const x = v[c];
      s0 += basis[o0 + c] * x; s1 += basis[o1 + c] * x; s2 += basis[o2 + c] * x; s3 += basis[o3 + c] * x;
    }
    out[r] = s0; out[r + 1] = s1; out[r + 2] = s2; out[r + 3] = s3;
  }
  for (; r < dims; r++) {
    let s = 0;
    for (let c = 0; c < dim; c++) s += basis[r * dim + c] * v[c];
    out[r] = s;
  }
  return out;
}

let shipped: Projection | undefined;

/** The shipped projection when it belongs to this embedder (and dimension), decoded once; otherwise none. */
export function shippedProjection(dim: number, embedder: string | undefined): Projection | undefined {
  if (embedder === undefined || embedder !== DEFAULT_PROJECTION.embedder || dim !== DEFAULT_PROJECTION.dim) return undefined;
  return (shipped ??= decodeProjection(DEFAULT_PROJECTION));
}
