import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crossFitScores, lowerQuantiles } from '../../src/semantic/calibration.js';
import { IntentClassifier, headScore, type ClassifierSettings } from '../../src/semantic/classifier.js';
import { l2normalize } from '../../src/semantic/embedder/types.js';
import { DEFAULT_TRAIN } from '../../src/semantic/linear-head.js';

const DIM = 16;
let seed = 3;
const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
const near = (a: number, noise: number) => l2normalize(Float32Array.from({ length: DIM }, (_, d) => (d === a ? 1 : 0) + noise * rand()));
const index = { M: 16, ef_construction: 100, ef_search: 32 };
// A narrow category (tight around its axis) and a broad one (its requests spread widely around another axis).
const cats = [{ name: 'narrow', metadata: {} }, { name: 'broad', metadata: {} }];
const vectors = [Array.from({ length: 20 }, () => near(0, 0.1)), Array.from({ length: 20 }, () => near(1, 1.6))];
const settings = (calibrate: boolean): ClassifierSettings => ({ method: 'blend', k: 5, threshold: 0.7, min_margin: 0, top_k: 2, calibrate });

test('lowerQuantiles: the conformal order statistic, the lowest when there are few scores, NaN without any', () => {
  const scores = [Array.from({ length: 99 }, (_, i) => (i + 1) / 100), [0.5, 0.2, 0.9], []];
  const q = lowerQuantiles(scores, 0.05);
  assert.equal(q[0], 0.05, 'ceil(0.05 * 100) = 5th lowest');
  assert.equal(q[1], 0.2);
  assert.ok(Number.isNaN(q[2]));
});

test('crossFitScores scores every reference once, by a head that did not see it', async () => {
  const refs = vectors.flat();
  const labelOf = Int32Array.from(refs, (_, i) => (i < 20 ? 0 : 1));
  const scores = await crossFitScores({
    refs, labelOf, classes: 2, dim: DIM, texts: undefined, train: { ...DEFAULT_TRAIN, epochs: 5 }, startWeights: undefined,
    score: (l) => headScore(l, DEFAULT_TRAIN.scale),
  });
  assert.deepEqual(scores.map((s) => s.length), [20, 20]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(scores[0]) > mean(scores[1]), 'the broad category scores lower on its own held-out references');
});

test('calibration lowers a broad category\'s threshold, keeps a narrow one at the global threshold', async () => {
  const plain = await IntentClassifier.build(cats, vectors, DIM, settings(false), index, { epochs: 10 });
  const calibrated = await IntentClassifier.build(cats, vectors, DIM, settings(true), index, { epochs: 10 });
  assert.deepEqual(plain.thresholdsInUse, [0.7, 0.7]);
  const [narrow, broad] = calibrated.thresholdsInUse;
  assert.equal(narrow, 0.7);
  assert.ok(broad < 0.7, `broad threshold ${broad}`);
  // New broad requests: calibrated, most are accepted; at the global threshold, far fewer.
  const queries = Array.from({ length: 200 }, () => near(1, 1.6));
  const accepted = (c: IntentClassifier) => queries.filter((q) => c.classify(q).intent === 'broad').length;
  assert.ok(accepted(calibrated) > accepted(plain), `${accepted(calibrated)} vs ${accepted(plain)}`);
  assert.ok(accepted(calibrated) >= 0.8 * queries.filter((q) => calibrated.classify(q).top[0].intent === 'broad').length);
  // A category's own threshold is never replaced.
  const own = await IntentClassifier.build([cats[0], { ...cats[1], threshold: 0.9 }], vectors, DIM, settings(true), index, { epochs: 10 });
  assert.equal(own.thresholdsInUse[1], 0.9);
});

test('calibration applies only while no threshold is set, by config or by fit', async () => {
  const { resolveSettings } = await import('../../src/semantic/catalog/build.js');
  const { defaultSemanticConfig } = await import('../../src/semantic/config.js');
  const config = defaultSemanticConfig().classifier;
  assert.equal(resolveSettings(config, {}).calibrate, true);
  assert.equal(resolveSettings(config, { threshold: 0.4 }).calibrate, false, 'fitted into _settings.yaml');
  assert.equal(resolveSettings({ ...config, threshold: 0.4 }, {}).calibrate, false, 'set in the config');
  assert.equal(resolveSettings({ ...config, calibration: false }, {}).calibrate, false);
});
