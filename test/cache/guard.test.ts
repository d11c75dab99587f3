import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultCacheConfig } from '../../src/cache/config.js';
import { extractFeatures, guardVerdict } from '../../src/cache/guard.js';

const opts = defaultCacheConfig().guard;
const verdict = (a: string, b: string, o = opts) => guardVerdict(extractFeatures(a), extractFeatures(b), o, 0.95, 0.89);

describe('false-hit guard', () => {
  it('rejects look-alike questions that ask something different', () => {
    assert.equal(verdict('What is it like to interview at Frost Bank?', 'What is it like to interview at Commerce Bank?'), 'entities');
    assert.equal(verdict('How many professional photographers are there in Canada?', 'How many professional photographers are there in China?'), 'entities');
    assert.equal(verdict('What is the weather like in Mount Airy in the summer?', 'What is the weather like in Mount Airy in the winter?', { ...opts, max_unmatched_content_words: 1 }), 'content_words');
    assert.equal(verdict('What jobs can I get with a 2 year degree?', 'What jobs can I get with a 4 year degree?'), 'numbers');
    assert.equal(verdict('Why is my phone charging slowly?', "Why isn't my phone charging?"), 'negation');
    assert.equal(verdict('How is Apple better than Samsung?', 'How is Samsung better than Apple?'), 'entities');
    assert.equal(verdict('What is the difference between C and C++?', 'What is the difference between C++ and C#?'), 'entities');
    assert.equal(verdict('How do women experience orgasm?', 'How many women experience orgasm?', { ...opts, question_word: true }), 'question_word');
  });

  it('lets paraphrases through', () => {
    assert.equal(verdict('How can I lose weight quickly?', 'How do I lose weight fast?'), undefined);
    assert.equal(verdict('What are the best books on machine learning?', 'Which books on machine learning are the best?'), undefined);
    assert.equal(verdict('What is the capital of France?', 'what is the capital of france'), undefined);
  });

  it('each check can be switched off, and the whole guard too', () => {
    assert.equal(verdict('What jobs need 2 years?', 'What jobs need 4 years?', { ...opts, numbers: false }), undefined);
    assert.equal(verdict('at Frost Bank?', 'at Commerce Bank?', { ...opts, enabled: false }), undefined);
  });

  it('an unmatched-word penalty raises the similarity needed', () => {
    const o = { ...opts, unmatched_word_penalty: 0.05 };
    const a = extractFeatures('How do I cook rice in a pan?');
    const b = extractFeatures('How do I cook rice in a pot?');
    assert.equal(guardVerdict(a, b, o, 0.95, 0.89), 'content_words');
    assert.equal(guardVerdict(a, b, o, 0.995, 0.89), undefined);
  });
});
