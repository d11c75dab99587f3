import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractFeatures } from '../../src/cache/guard.js';
import { PAIR_FEATURES, pairFeatures } from '../../src/cache/pair-features.js';
import {
  DEFAULT_FIT, chooseCutoff, chooseSetting, fitPairModel, formatPairModel, operatingPoint, rotate, type FitSet,
} from '../../src/cache/pair-fit.js';
import { createPairScorer, parsePairModel } from '../../src/cache/pair-scorer.js';
import { DEFAULT_PAIR_MODEL } from '../../src/cache/pair-weights.js';

const feature = (row: Float64Array, name: (typeof PAIR_FEATURES)[number]) => row[PAIR_FEATURES.indexOf(name)];
const rowOf = (query: string, cached: string, similarity = 0.9) => pairFeatures(extractFeatures(query), extractFeatures(cached), similarity);

describe('pair features', () => {
  it('measure what differs between two questions', () => {
    const r = rowOf('How can I convert rupees to dollars?', 'How can I convert dollars to rupees?', 0.97);
    assert.equal(feature(r, 'similarity'), 0.97);
    assert.equal(feature(r, 'unmatched_words'), 0);
    assert.equal(feature(r, 'shared_order_inversions'), 1);
    assert.equal(feature(r, 'word_jaccard'), 1);
    assert.ok(feature(r, 'bigram_jaccard') < 1);

    const added = rowOf('What is a closure?', 'What is an inline closure?');
    assert.equal(feature(added, 'unmatched_words'), 1);
    assert.equal(feature(added, 'one_side_adds'), 1);
    assert.equal(feature(added, 'unmatched_min_side'), 0);
    assert.equal(feature(added, 'function_words_unmatched'), 2);

    const swapped = rowOf('What jobs need 2 years at Frost Bank?', "What jobs don't need 4 years at Commerce Bank?");
    assert.equal(feature(swapped, 'quantities_differ'), 1);
    assert.equal(feature(swapped, 'negation_one_sided'), 1);
    assert.equal(feature(swapped, 'entities_unmatched'), 2);
    assert.equal(feature(swapped, 'unmatched_share'), 2 / 5);

    const same = rowOf('What is the capital of France?', 'what is the capital of france', 1);
    assert.equal(feature(same, 'unmatched_words'), 0);
    assert.equal(feature(same, 'length_ratio'), 1);
    assert.equal(feature(same, 'total_words'), 12);
  });

  it('compare the two embeddings per dimension when given them, and leave those features unknown without', () => {
    const q = extractFeatures('How do I renew my passport?');
    const bare = rowOf('How do I renew my passport?', 'How do I renew my passport?', 1);
    for (const f of ['vector_l1', 'vector_max_diff', 'vector_score'] as const) assert.ok(Number.isNaN(feature(bare, f)), f);
    // Scaled to unit length first: (3, 4) is (0.6, 0.8).
    const r = pairFeatures(q, q, 0.96, undefined, { query: Float32Array.of(3, 4), cached: Float32Array.of(0.8, 0.6) });
    assert.ok(Math.abs(feature(r, 'vector_l1') - 0.4) < 1e-6);
    assert.ok(Math.abs(feature(r, 'vector_max_diff') - 0.2) < 1e-6);
    assert.ok(Number.isNaN(feature(r, 'vector_score')), 'the vector score needs a model');
    assert.throws(() => pairFeatures(q, q, 1, undefined, { query: [1, 0], cached: [1, 0, 0] }), /differ in length/);
  });

  it('reuses the output row', () => {
    const out = new Float64Array(PAIR_FEATURES.length);
    assert.equal(pairFeatures(extractFeatures('a b c'), extractFeatures('a b d'), 0.5, out), out);
  });
});

describe('pair model', () => {
  it('the shipped model is valid, uses known features and scores identical questions above its cutoff', () => {
    const m = parsePairModel(JSON.parse(JSON.stringify(DEFAULT_PAIR_MODEL)));
    assert.ok(m.trees.length > 0);
    const s = createPairScorer(m);
    const q = extractFeatures('How do I renew my passport?');
    const v = new Float32Array(m.dim).fill(1);
    assert.ok(s.score(q, q, 1, { query: v, cached: v }) >= m.cutoff);
  });

  it('the vector score weighs per-dimension products and differences with the model\'s weights', () => {
    // dim 2: weights for products (x1 y1, x2 y2), then for absolute differences.
    const m = parsePairModel({ kind: 'gbdt', version: 1, features: ['vector_score'], base: 0, rate: 1, trees: [[0, 0, -3, 3]],
      vector: { bias: -0.5, weights: [1, 1, 0, 0] }, cutoff: 0.5, threshold: 0.8, dim: 2 });
    const s = createPairScorer(m);
    const q = extractFeatures('cook rice');
    assert.ok(s.score(q, q, 1, { query: [1, 0], cached: [1, 0] }) > 0.5, 'cosine 1 - 0.5 > 0');
    assert.ok(s.score(q, q, 1, { query: [1, 0], cached: [0, 1] }) < 0.5, 'cosine 0 - 0.5 < 0');
    assert.throws(() => parsePairModel({ ...m, vector: { bias: 0, weights: [1, 1] } }), /"vector" must be/);
  });

  it('rejects malformed models with the reason', () => {
    const base = { kind: 'gbdt', version: 1, features: ['similarity'], base: 0, rate: 1, trees: [[0, 0.9, -1, 1]], cutoff: 0.5, threshold: 0.9, dim: 512 };
    assert.doesNotThrow(() => parsePairModel(base));
    assert.throws(() => parsePairModel({ ...base, kind: 'mlp' }), /gbdt/);
    assert.throws(() => parsePairModel({ ...base, features: ['colour'] }), /unknown feature "colour"/);
    assert.throws(() => parsePairModel({ ...base, trees: [[1, 0.9, -1, 1]] }), /tree 0 is malformed/);
    assert.throws(() => parsePairModel({ ...base, trees: [[0, 0.9, -1]] }), /tree 0 is malformed/);
    assert.throws(() => parsePairModel({ ...base, cutoff: 2 }), /cutoff/);
    assert.throws(() => parsePairModel({ ...base, dim: 0 }), /dim/);
    assert.throws(() => parsePairModel(null), /JSON object/);
  });

  it('a model may use a subset of the features in any order', () => {
    const m = parsePairModel({ kind: 'gbdt', version: 1, features: ['unmatched_words', 'similarity'], base: 0, rate: 1,
      trees: [[1, 0.9, -2, [0, 0.5, 2, -2]]], cutoff: 0.5, threshold: 0.9, dim: 512 });
    const s = createPairScorer(m);
    assert.ok(s.score(extractFeatures('cook rice'), extractFeatures('cook rice'), 0.95) > 0.5);
    assert.ok(s.score(extractFeatures('cook rice'), extractFeatures('cook pasta'), 0.95) < 0.5);
    assert.ok(s.score(extractFeatures('cook rice'), extractFeatures('cook rice'), 0.85) < 0.5);
  });
});

/** Synthetic pairs: a duplicate has no unmatched words and a high similarity; noise keeps the classes overlapping a little. */
function synthetic(name: string, n: number, seed: number): FitSet {
  let x = seed;
  const rand = () => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
  const set: FitSet = { name, rows: [], labels: [], ruleOk: [] };
  for (let i = 0; i < n; i++) {
    const duplicate = rand() < 0.5;
    const similarity = duplicate ? 0.88 + rand() * 0.12 : 0.8 + rand() * 0.18;
    const words = ['alpha', 'beta', 'gamma', 'delta'];
    const query = duplicate ? words.join(' ') : `${words.slice(0, 3).join(' ')} ${rand() < 0.9 ? 'omega' : 'delta'}`;
    const row = pairFeatures(extractFeatures(query), extractFeatures(words.join(' ')), similarity);
    set.rows.push(row);
    set.labels.push(duplicate);
    set.ruleOk.push(true);
  }
  return set;
}

describe('fitting the pair scorer', () => {
  const ctx = { dim: 64 };
  const sets = [synthetic('one', 600, 7), synthetic('two', 300, 11)];
  const opts = { ...DEFAULT_FIT, thresholds: [0.85] };

  it('learns a separable rule; threshold and cutoff chosen on the tune lines keep the asked recall there', () => {
    const model = fitPairModel(sets, { ...opts, trees: 20 }, ctx);
    assert.equal(model.trees.length, 20);
    assert.equal(model.threshold, 0.85);
    assert.deepEqual(model.features, [...PAIR_FEATURES]);
    const s = createPairScorer(model);
    for (const set of sets) {
      const tune = { ...set, rows: set.rows.filter((_, i) => i % 5 === 4), labels: set.labels.filter((_, i) => i % 5 === 4), ruleOk: set.ruleOk.filter((_, i) => i % 5 === 4) };
      const p = operatingPoint(tune.rows.map((r) => s.scoreRow(r)), tune, model);
      assert.ok(p.recall >= opts.recall, `recall ${p.recall}`);
      assert.ok(p.precision > 0.9, `precision ${p.precision}`);
    }
    assert.deepEqual(parsePairModel(JSON.parse(formatPairModel(model))), model);
  });

  it('is deterministic', () => {
    const a = fitPairModel(sets, { ...opts, trees: 5 }, ctx);
    const b = fitPairModel(sets, { ...opts, trees: 5 }, ctx);
    assert.deepEqual(a, b);
  });

  it('reports every line once, from a fold the model neither fitted nor tuned on', () => {
    const report = rotate(sets, { ...opts, trees: 10 }, ctx);
    assert.deepEqual(report.folds.map((f) => [f.reported, f.tuned_on]), [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0]]);
    for (const f of report.folds) {
      assert.equal(f.sets.length, 2);
      for (const s of f.sets) assert.ok(s.point.served > 0 && s.point.precision > 0.9);
    }
    const served = report.folds.reduce((n, f) => n + f.sets[0].point.served, 0);
    assert.equal(report.pooled[0].point.served, served);
    assert.throws(() => rotate(sets, { ...opts, folds: 2 }, ctx), /at least 3 folds/);
  });

  it('cutoff: the highest that keeps the recall on every set; unreachable sets are ignored', () => {
    const set = (labels: boolean[], ruleOk = labels.map(() => true)): FitSet => ({ name: 'x', rows: labels.map(() => Float64Array.of(0.9)), labels, ruleOk });
    const a = { probs: [0.9, 0.8, 0.7, 0.2], set: set([true, true, true, false]) };
    const b = { probs: [0.95, 0.6, 0.1], set: set([true, true, false]) };
    assert.equal(chooseCutoff([a], 0.6, 0.85), 0.8);
    assert.equal(chooseCutoff([a, b], 0.6, 0.85), 0.6);
    const none = { probs: [0.9, 0.5], set: set([true, true], [false, false]) };
    assert.equal(chooseCutoff([a, none], 0.6, 0.85), 0.8);
    // Above the pairs' similarity nothing can be served, so the set no longer binds.
    assert.equal(chooseCutoff([a], 0.6, 0.95), 1);
  });

  it('threshold: the one whose cutoff gives the best precision on the tune rows', () => {
    // Duplicates are the more similar pairs: a higher threshold drops the non-duplicate the scorer ranks first.
    const rows = [0.95, 0.94, 0.93, 0.86, 0.85].map((x) => Float64Array.of(x));
    const set: FitSet = { name: 't', rows, labels: [true, true, true, false, true], ruleOk: rows.map(() => true) };
    const probs = [0.8, 0.7, 0.6, 0.9, 0.1];
    assert.deepEqual(chooseSetting([{ probs, set }], 0.5, [0.85, 0.9]), { threshold: 0.9, cutoff: 0.7 });
    assert.deepEqual(chooseSetting([{ probs, set }], 0.5, [0.85]), { threshold: 0.85, cutoff: 0.7 });
  });

  it('refuses data it cannot learn from', () => {
    const onlyDuplicates: FitSet = { name: 'd', rows: [rowOf('a', 'a', 0.99)], labels: [true], ruleOk: [true] };
    assert.throws(() => fitPairModel([onlyDuplicates], DEFAULT_FIT, ctx, { fit: () => true, tune: () => true, describe: '' }), /both duplicates and non-duplicates/);
    assert.throws(() => fitPairModel([{ ...onlyDuplicates, rows: [rowOf('a', 'a', 0.5)] }], DEFAULT_FIT, ctx), /no training pairs/);
  });
});

describe('the cache and the scorer model', () => {
  it('a model fitted on another embedder is not used: the cache warns and applies the rules only', async () => {
    const { Writable } = await import('node:stream');
    const { pino } = await import('pino');
    const { SemanticCache } = await import('../../src/cache/semantic-cache.js');
    const lines: string[] = [];
    const logger = pino(new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } }));
    const same = await SemanticCache.create({ dim: 512, embedderId: DEFAULT_PAIR_MODEL.embedder, logger, config: {} });
    await same.close();
    assert.equal(lines.filter((l) => l.includes('fitted for another embedder')).length, 0);
    const other = await SemanticCache.create({ dim: 512, embedderId: 'all-MiniLM-L6-v2', logger, config: {} });
    await other.close();
    assert.equal(lines.filter((l) => l.includes('fitted for another embedder')).length, 1);
  });
});
