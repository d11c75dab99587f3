import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitProjection, shortlistRecall } from '../../src/cache/projection-fit.js';
import { decodeProjection, project, projectJs, shippedProjection } from '../../src/cache/projection.js';
import { simdProjector } from '../../src/cache/projection-kernel.js';
import { ProjectedIndex } from '../../src/cache/projected-index.js';
import { DEFAULT_PROJECTION } from '../../src/cache/projection-weights.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { SemanticCache } from '../../src/cache/semantic-cache.js';
import { GRAPH_DEFAULTS, type CacheConfig } from '../../src/cache/config.js';
import { pino } from 'pino';

const DIM = 64, RANK = 10;
const rand = seededRandom(11);
const gauss = (): number => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
/** Unit vectors that mostly live in a RANK-dimensional subspace, as sentence embeddings mostly live in a few directions. */
const axes = Array.from({ length: RANK }, () => Float32Array.from({ length: DIM }, gauss));
function sample(): Float32Array {
  const v = new Float32Array(DIM);
  for (const a of axes) { const c = gauss(); for (let i = 0; i < DIM; i++) v[i] += c * a[i]; }
  for (let i = 0; i < DIM; i++) v[i] += gauss() * 0.4;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

describe('cache projection', () => {
  const corpus = Array.from({ length: 2000 }, sample);
  const model = fitProjection(corpus, 16, 'test-embedder', ['synthetic']);
  const p = decodeProjection(model);

  it('fits orthonormal rows that keep most of the energy of vectors from a low-rank source', () => {
    assert.equal(p.dims, 16);
    assert.equal(p.dim, DIM);
    assert.ok(model.kept > 0.6 && model.kept <= 1, `kept ${model.kept}`);
    for (let r = 0; r < p.dims; r++) {
      const row = p.basis.subarray(r * DIM, (r + 1) * DIM);
      assert.ok(Math.abs(dot(row, row) - 1) < 0.02, `row ${r} norm ${dot(row, row)}`);
      if (r > 0) assert.ok(Math.abs(dot(row, p.basis.subarray(0, DIM))) < 0.02);
    }
  });

  it('finds the exact nearest neighbour in the projected shortlist on vectors it was not fitted on', () => {
    const entries = Array.from({ length: 1500 }, sample), queries = Array.from({ length: 100 }, sample);
    assert.ok(shortlistRecall(p, entries, queries, 16) >= 0.98);
  });

  it('returns full-dimension cosines, best first, and survives removals, replacements and growth', () => {
    const index = new ProjectedIndex(p, { M: 16, efConstruction: 100, efSearch: 64 });
    const vs = Array.from({ length: 600 }, sample);
    vs.forEach((v, i) => index.add(i, v.map((x) => x * 3)));
    for (let i = 0; i < 600; i += 3) index.remove(i);
    for (let i = 1; i < 600; i += 3) { vs[i] = sample(); index.add(i, vs[i]); }
    const live = vs.map((v, label) => ({ v, label })).filter((e) => e.label % 3 !== 0);
    assert.equal(index.size, live.length);
    let top1 = 0;
    for (let j = 0; j < 100; j++) {
      const q = sample();
      const got = index.search(q.map((x) => x * 0.5), 4);
      assert.equal(got.length, 4);
      for (let i = 0; i < got.length; i++) {
        assert.ok(got[i].label % 3 !== 0, 'a removed entry was returned');
        assert.ok(Math.abs(got[i].score - dot(vs[got[i].label], q)) < 1e-5, 'score is the exact cosine');
        if (i > 0) assert.ok(got[i].score <= got[i - 1].score);
      }
      const best = live.reduce((b, e) => (dot(e.v, q) > dot(b.v, q) ? e : b));
      if (got[0].label === best.label) top1++;
    }
    assert.ok(top1 >= 97, `exact best first for ${top1}/100 queries`);
  });

  it('hands back the full unit vector stored under a label, for the guard', () => {
    const index = new ProjectedIndex(p, { M: 16, efConstruction: 100, efSearch: 64 });
    const v = Float32Array.from({ length: p.dim }, (_, i) => (i % 7) - 3);
    index.add(5, v);
    const got = index.vectorOf(5)!;
    const norm = Math.hypot(...v);
    assert.equal(got.length, p.dim);
    got.forEach((x, i) => assert.ok(Math.abs(x - v[i] / norm) < 1e-6));
    assert.equal(index.vectorOf(6), undefined);
    index.remove(5);
    assert.equal(index.vectorOf(5), undefined);
  });

  it('is used only for the embedder and dimension it was fitted for', () => {
    assert.ok(shippedProjection(DEFAULT_PROJECTION.dim, DEFAULT_PROJECTION.embedder));
    assert.equal(shippedProjection(DEFAULT_PROJECTION.dim, 'another-embedder'), undefined);
    assert.equal(shippedProjection(384, DEFAULT_PROJECTION.embedder), undefined);
    assert.equal(shippedProjection(DEFAULT_PROJECTION.dim, undefined), undefined);
    const shipped = decodeProjection(DEFAULT_PROJECTION);
    assert.equal(shipped.basis.length, shipped.dims * shipped.dim);
    assert.throws(() => decodeProjection({ ...DEFAULT_PROJECTION, scales: [] }), /expected/);
  });

  it('gives projected and full-vector partitions their own HNSW defaults; configured settings win', async () => {
    const logger = pino({ level: 'silent' });
    const make = (embedderId: string, index: Partial<CacheConfig['index']> = {}): Promise<SemanticCache> =>
      SemanticCache.create({ dim: DEFAULT_PROJECTION.dim, embedderId, logger, config: { index: { projection: 'auto', ...index } } });
    const caches = [
      await make(DEFAULT_PROJECTION.embedder), await make('another-embedder'),
      await make(DEFAULT_PROJECTION.embedder, { projection: 'off' }), await make(DEFAULT_PROJECTION.embedder, { ef_search: 100 }),
    ];
    try {
      const [projected, other, off, tuned] = caches;
      assert.equal(projected.indexDims, DEFAULT_PROJECTION.dims);
      assert.deepEqual(projected.graph, GRAPH_DEFAULTS.projected);
      assert.deepEqual(other.graph, GRAPH_DEFAULTS.full);
      assert.equal(off.indexDims, DEFAULT_PROJECTION.dim);
      assert.deepEqual(off.graph, GRAPH_DEFAULTS.full);
      assert.deepEqual(tuned.graph, { ...GRAPH_DEFAULTS.projected, efSearch: 100 });
    } finally {
      for (const c of caches) await c.close();
    }
  });
});

describe('projection kernel', () => {
  it('computes the same product in WebAssembly SIMD as the portable loop', () => {
    const shipped = decodeProjection(DEFAULT_PROJECTION);
    assert.ok(shipped.kernel, 'Node 20 runs WebAssembly SIMD');
    const r = seededRandom(3);
    for (let k = 0; k < 20; k++) {
      const v = Float32Array.from({ length: shipped.dim }, () => r() - 0.5);
      const a = projectJs(shipped, v, new Float32Array(shipped.dims));
      const b = project(shipped, Array.from(v), new Float32Array(shipped.dims));
      for (let i = 0; i < shipped.dims; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `${a[i]} vs ${b[i]}`);
    }
    // Dimensions the kernel cannot take fall back to the loop.
    assert.equal(simdProjector(new Float64Array(6 * 3), 6, 3), undefined);
  });
});
