import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VectorIndex } from '../../src/semantic/vector-index.js';
import { seededRandom } from '../../src/util/seeded-random.js';

const DIM = 64;
const rand = seededRandom(7);
const randomVector = (scale = 1): Float32Array => Float32Array.from({ length: DIM }, () => (rand() - 0.5) * scale);
const cosine = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
};

describe('VectorIndex', () => {
  it('returns the exact neighbours and cosine similarities of a small index', () => {
    const vs = Array.from({ length: 200 }, () => randomVector());
    const index = new VectorIndex({ dim: DIM, efSearch: 200, initialCapacity: 16 });
    vs.forEach((v, i) => index.add(i, v));
    assert.equal(index.size, 200);
    for (const q of Array.from({ length: 20 }, () => randomVector())) {
      const exact = vs.map((v, label) => ({ label, score: cosine(q, v) })).sort((a, b) => b.score - a.score).slice(0, 5);
      const got = index.search(q, 5);
      assert.deepEqual(got.map((n) => n.label), exact.map((n) => n.label));
      got.forEach((n, i) => assert.ok(Math.abs(n.score - exact[i].score) < 1e-5, `${n.score} vs ${exact[i].score}`));
    }
  });

  it('scores by direction whatever the magnitude of the vectors', () => {
    const index = new VectorIndex({ dim: DIM });
    const v = randomVector();
    index.add(1, Float32Array.from(v, (x) => x * 1e-20));
    index.add(2, randomVector(1e20));
    for (const scale of [1e-30, 1e-3, 1, 1e6, 1e30]) {
      const [best] = index.search(Array.from(v, (x) => x * scale), 1);
      assert.equal(best.label, 1);
      assert.ok(Math.abs(best.score - 1) < 1e-5, `scale ${scale}: ${best.score}`);
    }
    // Plain arrays and a single non-zero component work too.
    const axis = new Array<number>(DIM).fill(0);
    axis[3] = -2;
    index.add(3, axis);
    assert.equal(index.search(axis, 1)[0].label, 3);
  });

  it('hands back a stored vector by label, in its direction', () => {
    const index = new VectorIndex({ dim: DIM });
    const v = randomVector(3);
    index.add(1, v);
    assert.ok(cosine(index.vectorOf(1)!, v) > 0.9999);
    assert.equal(index.vectorOf(2), undefined);
    index.remove(1);
    assert.equal(index.vectorOf(1), undefined);
  });

  it('accepts a zero vector without failing', () => {
    const index = new VectorIndex({ dim: DIM });
    index.add(1, new Float32Array(DIM));
    index.add(2, randomVector());
    assert.equal(index.search(new Float32Array(DIM), 2).length, 2);
  });

  it('rejects vectors of the wrong dimension', () => {
    const index = new VectorIndex({ dim: DIM });
    index.add(1, randomVector());
    assert.throws(() => index.add(2, new Float32Array(DIM - 1)), /dimensions/);
    assert.throws(() => index.search(new Float32Array(DIM + 1), 1), /dimensions/);
  });

  it('replaces and removes by label, and reuses removed slots', () => {
    const index = new VectorIndex({ dim: DIM, initialCapacity: 16 });
    const a = randomVector();
    const b = randomVector();
    index.add(7, a);
    index.add(7, b);
    assert.equal(index.size, 1);
    assert.equal(index.search(b, 1)[0].label, 7);
    assert.ok(index.search(b, 1)[0].score > 0.9999);
    assert.equal(index.remove(7), true);
    assert.equal(index.remove(7), false);
    assert.deepEqual(index.search(b, 1), []);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 40; i++) index.add(round * 100 + i, randomVector());
      for (let i = 0; i < 40; i++) index.remove(round * 100 + i);
    }
    assert.equal(index.size, 0);
  });

  it('searches more neighbours than efSearch, then goes back to efSearch', () => {
    const index = new VectorIndex({ dim: DIM, efSearch: 10 });
    const vs = Array.from({ length: 60 }, () => randomVector());
    vs.forEach((v, i) => index.add(i, v));
    assert.equal(index.search(vs[0], 50).length, 50);
    assert.equal(index.search(vs[0], 1)[0].label, 0);
  });

  it('a filter may search the same index again without disturbing the outer search', () => {
    const index = new VectorIndex({ dim: DIM, efSearch: 100 });
    const vs = Array.from({ length: 50 }, () => randomVector());
    vs.forEach((v, i) => index.add(i, v));
    let inner = -1;
    const got = index.search(vs[5], 3, (label) => {
      inner = index.search(vs[40], 1)[0].label;
      return label % 2 === 1;
    });
    assert.equal(inner, 40);
    assert.ok(got.every((n) => n.label % 2 === 1));
    const exact = vs.map((v, label) => ({ label, score: cosine(vs[5], v) })).filter((n) => n.label % 2 === 1).sort((a, b) => b.score - a.score);
    assert.deepEqual(got.map((n) => n.label), exact.slice(0, 3).map((n) => n.label));
  });
});
