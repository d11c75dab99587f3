import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FITTED_HEAD } from '../../src/semantic/head-constants.js';
import { DEFAULT_THRESHOLD, IntentClassifier, defaultThreshold, headScore, nameStartWeights, topIndices, type ClassifierSettings } from '../../src/semantic/classifier.js';
import { l2normalize } from '../../src/semantic/embedder/types.js';
import { classBalanceWeights, linearScores, prototypes, trainLinearHead } from '../../src/semantic/linear-head.js';

const DIM = 16;
let seed = 1;
const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
/** A unit vector near axis `a` (noise scale `noise`). */
const near = (a: number, noise = 0.15) => l2normalize(Float32Array.from({ length: DIM }, (_, d) => (d === a ? 1 : 0) + noise * rand()));

const cats = [
  { name: 'alpha', metadata: { model: 'a' } },
  { name: 'beta', metadata: {} },
  { name: 'gamma', metadata: {}, threshold: 0.95 },
];
const vectors = [0, 1, 2].map((a) => Array.from({ length: 8 }, () => near(a)));
const index = { M: 16, ef_construction: 100, ef_search: 32 };
const settings = (method: ClassifierSettings['method']): ClassifierSettings => ({ method, k: 5, threshold: 0.5, min_margin: 0, top_k: 3 });

for (const method of ['blend', 'knn', 'centroid', 'linear'] as const) {
  test(`${method}: nearby queries get their category and its metadata`, async () => {
    const c = await IntentClassifier.build(cats, vectors, DIM, settings(method), index, { epochs: 20 });
    const r = c.classify(near(0, 0.1));
    assert.equal(r.intent, 'alpha');
    assert.deepEqual(r.metadata, { model: 'a' });
    assert.equal(r.top[0].intent, 'alpha');
    assert.equal(r.top.length, 3);
    assert.ok(r.margin > 0);
    assert.equal(c.classify(near(1, 0.1)).intent, 'beta');
  });
}

test('a query far from every category is none', async () => {
  const c = await IntentClassifier.build(cats, vectors, DIM, settings('blend'), index);
  const r = c.classify(near(9, 0.05));
  assert.equal(r.intent, 'none');
  assert.deepEqual(r.metadata, {});
  assert.ok(r.score < 0.5);
});

for (const method of ['blend', 'centroid'] as const) {
  test(`${method}: a query the 'none' category wins is rejected; 'none' never appears in top`, async () => {
    const withNone = [...cats, { name: 'none', metadata: { ignored: true } }];
    const c = await IntentClassifier.build(withNone, [...vectors, Array.from({ length: 8 }, () => near(9))], DIM,
      { ...settings(method), threshold: -1 }, index, { epochs: 20 });
    const far = c.classify(near(9, 0.05));
    assert.equal(far.intent, 'none');
    assert.deepEqual(far.metadata, {});
    assert.ok(far.top.length === 3 && far.top.every((t) => t.intent !== 'none'), JSON.stringify(far.top));
    // Without the none class, the same query at threshold -1 is accepted as some category.
    const without = await IntentClassifier.build(cats, vectors, DIM, { ...settings(method), threshold: -1 }, index, { epochs: 20 });
    assert.notEqual(without.classify(near(9, 0.05)).intent, 'none');
    assert.equal(c.classify(near(0, 0.1)).intent, 'alpha');
  });
}

test("a category's own threshold overrides the global one", async () => {
  const c = await IntentClassifier.build(cats, vectors, DIM, settings('centroid'), index);
  const q = l2normalize(Float32Array.from({ length: DIM }, (_, d) => (d === 2 ? 1 : d === 5 ? 0.6 : 0)));
  const r = c.classify(q);
  assert.equal(r.top[0].intent, 'gamma');
  assert.ok(r.score > 0.5 && r.score < 0.95, `score ${r.score}`);
  assert.equal(r.intent, 'none');
  const relaxed = c.withSettings(c.settings, cats.map((x) => ({ ...x, threshold: undefined })));
  assert.equal(relaxed.classify(q).intent, 'gamma');
});

test('min_margin rejects a query halfway between two categories', async () => {
  const c = await IntentClassifier.build(cats, vectors, DIM, { ...settings('centroid'), threshold: 0, min_margin: 0.2 }, index);
  const between = l2normalize(Float32Array.from({ length: DIM }, (_, d) => (d < 2 ? 1 : 0)));
  const r = c.classify(between);
  assert.ok(r.margin < 0.2);
  assert.equal(r.intent, 'none');
  assert.equal(c.classify(near(0, 0.05)).intent, 'alpha');
});

test('topIndices orders best first and treats NaN as lowest', () => {
  assert.deepEqual(topIndices(Float32Array.of(0.1, NaN, 0.9, 0.5, 0.7), 3), [2, 4, 3]);
  assert.deepEqual(topIndices(Float32Array.of(NaN, 0.2), 2), [1, 0]);
});

test('blend with a trained head scores by the winning logit over the full-match logit, in [-1, 1]', async () => {
  const c = await IntentClassifier.build(cats, vectors, DIM, settings('blend'), index, { epochs: 20 });
  assert.ok(c.trained);
  const close = c.classify(vectors[0][0]);
  const far = c.classify(near(9, 0.05));
  assert.equal(close.intent, 'alpha');
  assert.ok(close.score > far.score, `${close.score} vs ${far.score}`);
  for (const r of [close, far]) for (const t of r.top) assert.ok(t.score >= -1 && t.score <= 1, `score ${t.score}`);
  assert.equal(headScore(8, 16), 0.5);
  assert.equal(headScore(40, 16), 1);
  assert.equal(headScore(-40, 16), -1);
});

test('while the head trains, blend ranks and scores by similarity', () => {
  const { ready } = IntentClassifier.buildDeferred(cats, vectors, DIM, settings('blend'), index);
  assert.equal(ready.trained, false);
  const r = ready.classify(near(0, 0.05));
  assert.equal(r.top[0].intent, 'alpha');
  assert.ok(r.score > 0.8 && r.score <= 1, `similarity ${r.score}`);
});

test("an example equal to its category's name weighs the fitted name start weight in the head's start", () => {
  const cats = [{ name: 'report_lost_card', metadata: {} }, { name: 'weather', metadata: {} }, { name: '_', metadata: {} }];
  const texts = [['i lost my card', 'report lost card'], ['weather', 'will it rain'], ['']];
  const W = FITTED_HEAD.nameStartWeight;
  assert.deepEqual(Array.from(nameStartWeights(cats, texts)), [1, W, W, 1, 1]);
  assert.deepEqual(Array.from(nameStartWeights(cats, texts, 2.5)), [1, 2.5, 2.5, 1, 1]);
});

test('weighted prototypes lean towards the heavier example', () => {
  const a = Float32Array.of(1, 0);
  const b = Float32Array.of(0, 1);
  const p = prototypes([a, b], Int32Array.of(0, 0), 1, 2, Float32Array.of(3, 1));
  assert.ok(Math.abs(p[0] - 3 / Math.sqrt(10)) < 1e-6 && Math.abs(p[1] - 1 / Math.sqrt(10)) < 1e-6, `${p[0]}, ${p[1]}`);
});

test('default thresholds: blend depends on whether the head reads wording', () => {
  assert.equal(defaultThreshold('blend', true), DEFAULT_THRESHOLD.blend);
  assert.ok(defaultThreshold('blend', false) > DEFAULT_THRESHOLD.blend);
  assert.equal(defaultThreshold('knn', false), DEFAULT_THRESHOLD.knn);
});

test('class-balance weights give every class the mean class size; a kept class weighs 1 per example', () => {
  const labels = Int32Array.from([0, 0, 0, 1, 2, 2, 2, 2]);
  assert.deepEqual([...classBalanceWeights(labels, 3)].map((w) => +w.toFixed(4)), [...Array(3).fill(0.8889), 2.6667, ...Array(4).fill(0.6667)]);
  // Class 2 kept: the mean is over classes 0 and 1 (size 2).
  assert.deepEqual([...classBalanceWeights(labels, 3, new Set([2]))].map((w) => +w.toFixed(4)), [...Array(3).fill(0.6667), 2, 1, 1, 1, 1]);
});

test('loss weights move the decision between a large and a small class towards the large one', async () => {
  // Class 0 has 12 examples, class 1 has 2, on overlapping clouds: unweighted training leans towards class 0.
  const xs = [...Array.from({ length: 12 }, () => near(0, 0.9)), ...Array.from({ length: 2 }, () => near(1, 0.9))];
  const labels = Int32Array.from(xs, (_, i) => (i < 12 ? 0 : 1));
  const opts = { epochs: 200, l2: 0 };
  const plain = await trainLinearHead(xs, labels, 2, DIM, opts);
  const balanced = await trainLinearHead(xs, labels, 2, DIM, opts, undefined, undefined, classBalanceWeights(labels, 2));
  const mid = l2normalize(Float32Array.from({ length: DIM }, (_, d) => (d < 2 ? 1 : 0)));
  const gap = (h: typeof plain) => {
    const out = linearScores(h, mid, new Float32Array(2));
    return out[1] - out[0];
  };
  assert.ok(gap(balanced) > gap(plain), `balanced ${gap(balanced)} vs plain ${gap(plain)}`);
});
