/**
 * The lexical features are part of what the routing quality figures were measured with: the featuriser's output for a
 * seeded corpus (ASCII and accented words, apostrophes, digits, CJK, emoji, repeats, long words, empty and word-less
 * texts) is pinned by a digest of every index and value, so a faster featuriser must compute exactly the same vectors.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { LexicalFeaturizer } from '../../src/semantic/lexical.js';

const VOCAB = [
  'card', 'cards', 'lost', 'my', 'the', 'a', 'to', 'transfer', 'money', "what's", "don't", "rock'n'roll", 'pin', '2nd', '42',
  'café', 'naïve', 'Zürich', 'ÉCOLE', 'straße', '東京', 'データ', '😀', 'x', 'ab', 'supercalifragilisticexpialidocious',
  'refund', 'REFUND', 'refunds', 'account', 'balance', 'why', 'is', 'not', 'working', 'top-up', 'e-mail', 'C++', 'node.js',
  "o'clock", 'déjà', 'vu', 'ﬁle', 'İstanbul', '...', '?!', '—', '3.14', '1,000', 'USD', '€5',
];

function corpus(seed: number, n: number): string[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const out: string[] = ['', '   ', '?!', 'card card card card', VOCAB.join(' ')];
  for (let i = out.length; i < n; i++) {
    const len = 1 + Math.floor(next() * 14);
    const ws: string[] = [];
    for (let j = 0; j < len; j++) ws.push(VOCAB[Math.floor(next() * VOCAB.length)]);
    out.push(ws.join(next() < 0.2 ? ', ' : ' '));
  }
  return out;
}

test('lexical features of a seeded corpus are unchanged', () => {
  const fz = LexicalFeaturizer.fit(corpus(1, 300));
  const h = createHash('sha256');
  h.update(`dim ${fz.dim};`);
  for (const text of [...corpus(1, 300), ...corpus(2, 300)]) {
    const v = fz.transform(text);
    h.update(Buffer.from(v.index.buffer, v.index.byteOffset, v.index.byteLength));
    h.update(Buffer.from(v.value.buffer, v.value.byteOffset, v.value.byteLength));
    h.update(';');
  }
  assert.equal(h.digest('hex'), 'f3680687430b1c4c86d98a3e87dc46b0c4812ab1d2788e236ee3b724460666a3');
});
