/**
 * What a caller's text can do to the semantic path: the default embedder (USE-lite: its SentencePiece tokenizer and the
 * model) and the classifier's lexical features see every request's text as sent, so any string must give a finite unit
 * vector and a classification, the same one each time, without throwing. Seeded and bounded for `npm test`; FUZZ_SCALE
 * multiplies the case counts, FUZZ_SEED fixes the seed (a failure prints the seed and path that replay it).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { IntentClassifier } from '../../src/semantic/classifier.js';
import { dot } from '../../src/semantic/embedder/types.js';
import { UseLiteEmbedder } from '../../src/semantic/embedder/use-lite.js';
import { callerText } from './texts.js';

const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20_241_204;
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));

let embedder: UseLiteEmbedder;
let classifier: IntentClassifier;
before(async () => {
  embedder = await UseLiteEmbedder.load();
  // The default method (the head with lexical features, calibrated), on two small categories.
  const texts = [
    ['How do I update my card?', 'Why was I charged twice?', 'Cancel my subscription'],
    ['Write a Python function that reverses a list', 'Fix this JavaScript error', 'Explain this SQL query'],
  ];
  const vectors = await Promise.all(texts.map((t) => embedder.embed(t)));
  const settings = { method: 'blend' as const, k: 5, threshold: 0.5, min_margin: 0, top_k: 2, lexical: true, calibrate: true };
  classifier = await IntentClassifier.build([{ name: 'billing', metadata: {} }, { name: 'code', metadata: {} }], vectors, 512, settings, { M: 16, ef_construction: 100, ef_search: 32 }, {}, texts);
});
after(() => embedder.close());

test('any caller text embeds to one finite unit vector, the same alone and in a batch, and classifies', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(callerText, { minLength: 1, maxLength: 6 }), async (texts) => {
      const batch = await embedder.embed(texts);
      assert.equal(batch.length, texts.length);
      for (let k = 0; k < texts.length; k++) {
        const v = batch[k];
        assert.equal(v.length, 512);
        for (const x of v) assert.ok(Number.isFinite(x));
        const norm = dot(v, v);
        assert.ok(Math.abs(norm - 1) < 1e-3 || norm === 0, `norm ${norm}`);
        const [alone] = await embedder.embed([texts[k]]);
        assert.ok(dot(alone, v) > 0.999 || (norm === 0 && dot(alone, alone) === 0), `row ${k}: ${dot(alone, v)}`);
        const c = classifier.classify(v, texts[k]);
        assert.equal(typeof c.intent, 'string');
        assert.ok(Number.isFinite(c.score));
      }
    }),
    { seed: SEED, numRuns: runs(25) },
  );
});
