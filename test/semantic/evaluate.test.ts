import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitThresholds, report, type Scored } from '../../src/semantic/evaluate.js';

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
