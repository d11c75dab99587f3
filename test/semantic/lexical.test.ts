import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IntentClassifier, type ClassifierSettings } from '../../src/semantic/classifier.js';
import { categoryNameText } from '../../src/semantic/text.js';
import { l2normalize } from '../../src/semantic/embedder/types.js';
import { LexicalFeaturizer, sparseDot, words } from '../../src/semantic/lexical.js';
import { linearScores, trainLinearHead } from '../../src/semantic/linear-head.js';

const refs = ['report my lost card', 'i lost my credit card', 'my card is damaged', 'the card got bent and broken', 'what time is it'];

test('words: lower-cased letters and digits, apostrophe suffixes kept with their word', () => {
  assert.deepEqual(words("What's my PIN-code, 2nd try?"), ["what's", 'my', 'pin', 'code', '2nd', 'try']);
  assert.deepEqual(words('  ...  '), []);
});

test('lexical vectors are unit length with ascending compact indices; shared wording scores higher', () => {
  const fz = LexicalFeaturizer.fit(refs);
  assert.ok(fz.dim > 50 && fz.dim < 1 << 15, `compact dim ${fz.dim}`);
  const v = fz.transform('I lost my card yesterday');
  assert.ok(v.index.length > 10);
  for (let i = 1; i < v.index.length; i++) assert.ok(v.index[i] > v.index[i - 1]);
  for (const i of v.index) assert.ok(i >= 0 && i < fz.dim);
  // Its norm counts unseen features ("yesterday"), so the kept part is below 1; a fitted text is exactly unit length.
  const own = fz.transform(refs[0]);
  assert.ok(Math.abs(sparseDot(own, own) - 1) < 1e-5);
  assert.ok(sparseDot(v, v) < 1 && sparseDot(v, v) > 0.2);
  const lost = sparseDot(v, fz.transform(refs[1]));
  const damaged = sparseDot(v, fz.transform(refs[2]));
  const time = sparseDot(v, fz.transform(refs[4]));
  assert.ok(lost > damaged && damaged > time, `${lost} ${damaged} ${time}`);
  // Character n-grams match inflections the words miss.
  assert.ok(sparseDot(fz.transform('losing cards'), fz.transform(refs[1])) > 0);
  assert.deepEqual(fz.transform(''), { index: new Int32Array(0), value: new Float32Array(0) });
  assert.deepEqual(fz.transform('zzzz qqqq').index.length, 0);
});

test('a head with a lexical part separates categories whose embeddings coincide', async () => {
  const dim = 4;
  const vec = l2normalize(Float32Array.from([1, 0.2, 0, 0]));
  const texts = ['report my lost card', 'i lost my credit card', 'my card is damaged', 'the card got bent and broken'];
  const fz = LexicalFeaturizer.fit(texts);
  const lex = texts.map((t) => fz.transform(t));
  const labels = Int32Array.from([0, 0, 1, 1]);
  const head = await trainLinearHead([vec, vec, vec, vec], labels, 2, dim, { epochs: 30 }, { vectors: lex, dim: fz.dim });
  assert.equal(head.lexical?.dim, fz.dim);
  const out = new Float32Array(2);
  linearScores(head, vec, out, fz.transform('lost card'));
  assert.ok(out[0] > out[1] + 0.5, String(out));
  linearScores(head, vec, out, fz.transform('damaged card'));
  assert.ok(out[1] > out[0] + 0.5, String(out));
  // Without lexical input only the (identical) embedding part speaks.
  linearScores(head, vec, out);
  assert.ok(Math.abs(out[0] - out[1]) < 0.5, String(out));
  await assert.rejects(trainLinearHead([vec], Int32Array.from([0]), 1, dim, {}, { vectors: lex, dim: fz.dim }), /one lexical vector per example/);
});

const settings = (lexical: boolean): ClassifierSettings => ({ method: 'blend', k: 5, threshold: -1, min_margin: 0, top_k: 2, lexical });
const index = { M: 16, ef_construction: 100, ef_search: 32 };

test('the classifier ranks by wording when given the request text, and by meaning alone without it', async () => {
  const dim = 8;
  // Two categories with interleaved, near-identical embeddings: only the wording tells them apart.
  const v = (i: number) => l2normalize(Float32Array.from({ length: dim }, (_, d) => (d === 0 ? 1 : 0.02 * Math.sin(i * 7 + d))));
  const cats = [{ name: 'lost_card', metadata: {} }, { name: 'damaged_card', metadata: {} }];
  const texts = [
    ['report my lost card', 'i lost my credit card', 'where did my card go, i lost it', 'card lost'],
    ['my card is damaged', 'the card got bent and broken', 'damaged card, chip broken', 'card damaged'],
  ];
  const vectors = texts.map((ts, c) => ts.map((_, i) => v(c * 4 + i)));
  const hybrid = await IntentClassifier.build(cats, vectors, dim, settings(true), index, {}, texts);
  assert.equal(hybrid.lexical, true);
  const q = v(99);
  assert.equal(hybrid.classify(q, 'i think i lost my card').intent, 'lost_card');
  assert.equal(hybrid.classify(q, 'my card is broken and damaged').intent, 'damaged_card');
  // The same with lexical off, or without texts: no lexical part.
  const plain = await IntentClassifier.build(cats, vectors, dim, settings(false), index, {}, texts);
  assert.equal(plain.lexical, false);
  const noTexts = await IntentClassifier.build(cats, vectors, dim, settings(true), index);
  assert.equal(noTexts.lexical, false);
  assert.throws(() => IntentClassifier.buildDeferred(cats, vectors, dim, settings(true), index, {}, [texts[0]]), /texts must match/);
});

test('category names as text', () => {
  assert.equal(categoryNameText('report_lost_card'), 'report lost card');
  assert.equal(categoryNameText('code.review-v2'), 'code review v2');
  assert.equal(categoryNameText('_'), '');
});
