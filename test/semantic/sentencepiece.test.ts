import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SentencePieceTokenizer, type Vocabulary } from '../../src/semantic/embedder/sentencepiece.js';

const RESERVED: Vocabulary = [['<unk>', 0], ['<s>', 0], ['</s>', 0], ['x1', 0], ['x2', 0], ['x3', 0]];
const vocab: Vocabulary = [
  ...RESERVED,
  ['▁', -2], // 6
  ['▁he', -3], // 7
  ['llo', -3], // 8
  ['▁hello', -4], // 9
  ['h', -5], // 10
  ['e', -5], // 11
  ['l', -5], // 12
  ['o', -5], // 13
  ['▁w', -3], // 14
  ['or', -3], // 15
  ['ld', -3], // 16
  ['▁world', -9], // 17: worse than ▁w + or + ld (-9 < -9 tie broken towards the later/equal path)
  ['▁I', -2], // 18
];
const tok = new SentencePieceTokenizer(vocab);

test('Viterbi picks the highest-scoring segmentation', () => {
  // ▁hello (-4) beats ▁he + llo (-6) and the single characters.
  assert.deepEqual(tok.encode('hello'), [9]);
});

test('spaces become the ▁ boundary and one ▁ is prepended', () => {
  assert.deepEqual(SentencePieceTokenizer.symbols('hi you'), ['▁', 'h', 'i', '▁', 'y', 'o', 'u']);
  assert.deepEqual(tok.encode('hello world').slice(0, 1), [9]);
});

test('equal scores resolve to the later-starting piece, as the reference does (>=)', () => {
  // "▁world": ▁world = -9 and ▁w + or + ld = -9; the last update wins at equal score.
  assert.deepEqual(tok.encode('world'), [14, 15, 16]);
});

test('case is kept (the vocabulary is case-sensitive)', () => {
  assert.deepEqual(tok.encode('I'), [18]);
  assert.notDeepEqual(tok.encode('i'), [18]);
});

test('unknown characters become id 0 and runs of them collapse', () => {
  const ids = tok.encode('hello ZZZ');
  assert.equal(ids[0], 9);
  assert.equal(ids.at(-1), 0);
  assert.equal(ids.filter((i) => i === 0).length, 1);
});

test('NFKC normalisation applies before segmentation', () => {
  // U+FB01 (ﬁ ligature) normalises to "fi"; fullwidth "ｈｅｌｌｏ" to "hello".
  assert.deepEqual(tok.encode('ｈｅｌｌｏ'), [9]);
});

test('empty input gives no tokens; maxTokens keeps the first ones', () => {
  assert.deepEqual(tok.encode(''), []);
  assert.deepEqual(tok.encode('world', 2), [14, 15]);
});
