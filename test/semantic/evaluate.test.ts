import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitCrossValidated, fitThresholds, report, type Scored } from '../../src/semantic/evaluate.js';

const row = (gold: string, intent: string, score: number, margin = 0.5): Scored => ({
  gold,
  raw: { intent, score, margin, top: [{ intent, score }], metadata: {} },
});

// In-scope rows score high, out-of-scope rows lower; one in-scope row is misclassified.
const scored: Scored[] = [
  ...Array.from({ length: 20 }, (_, i) => row('a', 'a', 0.7 + i * 0.01)),
  ...Array.from({ length: 20 }, (_, i) => row('b', 'b', 0.65 + i * 0.01)),
  row('a', 'b', 0.8),
  ...Array.from({ length: 10 }, (_, i) => row('none', i % 2 ? 'a' : 'b', 0.4 + i * 0.02)),
];

test('report counts accuracy, OOS recall, precision/recall and confusions', () => {
  const r = report(scored, { global: 0.6, minMargin: 0, perCategory: new Map() });
  assert.equal(r.inScope, 41);
  assert.equal(r.outOfScope, 10);
  assert.equal(r.inScopeAccuracy, 40 / 41);
  assert.equal(r.inScopeCorrect, 40);
  assert.equal(r.topCorrect, 40);
  assert.equal(r.oosRecall, 1);
  assert.deepEqual(r.confused[0], { gold: 'a', predicted: 'b', count: 1 });
  const b = r.perCategory.find((c) => c.intent === 'b');
  assert.equal(b?.precision, 20 / 21);
});

test('fit reaches the OOS recall target and keeps in-scope accuracy', () => {
  const t = fitThresholds(scored, { minOosRecall: 0.7 });
  const r = report(scored, t);
  assert.ok(r.oosRecall >= 0.7, `recall ${r.oosRecall}`);
  assert.equal(r.inScopeAccuracy, 40 / 41);
});

test('a low margin is rejected when min_margin is fitted', () => {
  const ambiguous: Scored[] = [
    ...Array.from({ length: 10 }, () => row('a', 'a', 0.9, 0.5)),
    ...Array.from({ length: 10 }, () => row('none', 'a', 0.9, 0.01)),
  ];
  const t = fitThresholds(ambiguous, { minOosRecall: 0.9 });
  assert.ok(t.minMargin > 0.01);
  assert.equal(report(ambiguous, t).inScopeAccuracy, 1);
});

test('per-category thresholds only when a precision target is given', () => {
  // Category b accepts an out-of-scope row at 0.9, above all of its own rows: a precision target raises b's threshold.
  const withOos = [...scored, row('none', 'b', 0.9), row('none', 'b', 0.89)];
  assert.equal(fitThresholds(withOos).perCategory.size, 0);
  const t = fitThresholds(withOos, { targetPrecision: 0.75 });
  assert.ok((t.perCategory.get('b') ?? -1) > t.global, JSON.stringify([...t.perCategory]));
});

// In-scope rows spread evenly over 0.3–0.9, out-of-scope rows scattered over 0.1–0.6: every threshold trades one
// against the other, and the folds' out-of-scope rows differ enough that a fit for exactly the target falls short out of fold.
const noisy: Scored[] = [
  ...Array.from({ length: 200 }, (_, i) => row(i % 2 ? 'a' : 'b', i % 2 ? 'a' : 'b', 0.3 + ((i * 37) % 200) / 200 * 0.6)),
  ...Array.from({ length: 60 }, (_, i) => row('none', 'a', 0.1 + 0.5 * (Math.abs(Math.sin(i + 1) * 10_000) % 1))),
];

test('the cross-fit raises the recall it aims for until the recall holds on folds it was not fitted on', () => {
  const cv = fitCrossValidated(noisy, { minOosRecall: 0.75 }, 4);
  assert.equal(cv.folds, 4);
  assert.equal(cv.foldThresholds.length, 4);
  assert.ok(cv.outOfFold.oosRecall >= 0.75, `out of fold ${cv.outOfFold.oosRecall}`);
  assert.ok(cv.fittedFor > 0.75, `fitted for ${cv.fittedFor}: the fit for exactly 0.75 held out of fold here`);
  // The written thresholds are the all-rows fit for the raised recall, and reach it in sample.
  assert.deepEqual(cv.thresholds, fitThresholds(noisy, { minOosRecall: cv.fittedFor }));
  assert.ok(cv.inSample.oosRecall >= cv.fittedFor);
  assert.deepEqual(cv.inSample, (({ inScopeAccuracy, oosRecall }) => ({ inScopeAccuracy, oosRecall }))(report(noisy, cv.thresholds)));
});

test('the out-of-fold figures score each fold with thresholds fitted without it', () => {
  const cv = fitCrossValidated(noisy, { minOosRecall: 0.75 }, 4);
  // Stratified round robin: the k-th in-scope row and the k-th out-of-scope row go to fold k mod 4.
  const foldOf = (() => {
    let i = 0;
    let o = 0;
    return noisy.map((s) => (s.gold === 'none' ? o++ : i++) % 4);
  })();
  let right = 0;
  let rejected = 0;
  for (let f = 0; f < 4; f++) {
    const t = fitThresholds(noisy.filter((_, i) => foldOf[i] !== f), { minOosRecall: cv.fittedFor });
    noisy.forEach((s, i) => {
      if (foldOf[i] !== f) return;
      const ok = s.raw.score >= t.global && s.raw.margin >= t.minMargin;
      if (s.gold === 'none' && !ok) rejected++;
      if (s.gold !== 'none' && ok && s.raw.intent === s.gold) right++;
    });
  }
  assert.equal(cv.outOfFold.oosRecall, rejected / 60);
  assert.equal(cv.outOfFold.inScopeAccuracy, right / 200);
  assert.ok(cv.outOfFold.oosRecall >= 0.75);
});

test('without out-of-scope rows the cross-fit is the plain fit', () => {
  const inOnly = noisy.filter((s) => s.gold !== 'none');
  const cv = fitCrossValidated(inOnly, { minOosRecall: 0.7 }, 5);
  assert.equal(cv.folds, 1);
  assert.deepEqual(cv.thresholds, fitThresholds(inOnly, { minOosRecall: 0.7 }));
  assert.deepEqual(cv.outOfFold, cv.inSample);
});

test('the written threshold, rounded to 3 decimals, still reaches the recall the fit aimed for', () => {
  // The out-of-scope score that must be rejected sits just below a round value: rounding to nearest would accept it.
  const rows: Scored[] = [
    row('a', 'a', 0.50049),
    ...Array.from({ length: 10 }, (_, i) => row('a', 'a', 0.8 + i * 0.01)),
    row('none', 'a', 0.5004),
    row('none', 'a', 0.1),
  ];
  const t = fitThresholds(rows, { minOosRecall: 1 });
  assert.equal(report(rows, t).oosRecall, 1, `threshold ${t.global}`);
});
