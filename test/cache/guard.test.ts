import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultCacheConfig } from '../../src/cache/config.js';
import { defaultPairScorer, extractFeatures, guardVerdict, resolvePairScorer } from '../../src/cache/guard.js';
import { formatPairModel } from '../../src/cache/pair-fit.js';
import { SemanticCache } from '../../src/cache/semantic-cache.js';
import { fromJsonReply } from '../../src/cache/reply.js';
import { requestKey, type RequestKey } from '../../src/cache/request-key.js';
import { DIM, chatCtx, jsonReply, logger, standInEmbed } from './helpers.js';

const defaults = defaultCacheConfig().guard;
/** The lexical rules on their own (the guard as it was before the scorer). */
const rules = { ...defaults, scorer: false };
const verdict = (a: string, b: string, o = rules, similarity = 0.95) => guardVerdict(extractFeatures(a), extractFeatures(b), o, similarity, 0.89);

describe('false-hit guard: rules', () => {
  it('rejects look-alike questions that ask something different', () => {
    assert.equal(verdict('What is it like to interview at Frost Bank?', 'What is it like to interview at Commerce Bank?'), 'entities');
    assert.equal(verdict('How many professional photographers are there in Canada?', 'How many professional photographers are there in China?'), 'entities');
    assert.equal(verdict('What is the weather like in Mount Airy in the summer?', 'What is the weather like in Mount Airy in the winter?', { ...rules, max_unmatched_content_words: 1 }), 'content_words');
    assert.equal(verdict('What jobs can I get with a 2 year degree?', 'What jobs can I get with a 4 year degree?'), 'numbers');
    assert.equal(verdict('Why is my phone charging slowly?', "Why isn't my phone charging?"), 'negation');
    assert.equal(verdict('How is Apple better than Samsung?', 'How is Samsung better than Apple?'), 'entities');
    assert.equal(verdict('What is the difference between C and C++?', 'What is the difference between C++ and C#?'), 'entities');
    assert.equal(verdict('How do women experience orgasm?', 'How many women experience orgasm?', { ...rules, question_word: true }), 'question_word');
  });

  it('reads a typographic apostrophe like a plain one and an answering "No," as no negation', () => {
    assert.equal(extractFeatures('Why don’t my plants grow?').negated, true);
    assert.equal(verdict("Why don't my plants grow?", 'Why don’t my plants grow?'), undefined);
    assert.equal(verdict('Why do my plants grow?', 'Why don’t my plants grow?'), 'negation');
    assert.equal(verdict("No, it doesn't exist in version 2.10.0.", 'It is not available in version 2.10.0.'), undefined);
    assert.equal(verdict('No module named numpy?', 'Module named numpy?'), 'negation');
    assert.equal(verdict('No, it exists in version 2.10.0.', 'It exists in version 2.10.0.'), undefined);
  });

  it('rejects opposite ends of a scale and reversed directions', () => {
    assert.equal(verdict('What is the most memorable day of your life?', 'What is the least memorable day of your life?'), 'opposites');
    assert.equal(verdict('cheapest flight to Miami', 'most expensive flight to Miami'), 'opposites');
    assert.equal(verdict('How do I increase my credit limit?', 'How do I decrease my credit limit?'), 'opposites');
    assert.equal(verdict('book a flight from boston to miami', 'book a flight from miami to boston'), 'opposites');
    assert.equal(verdict('convert 100 dollars to rupees', 'convert 100 rupees to dollars'), 'opposites');
    assert.equal(verdict('what is the best laptop for students', 'what is the worst laptop for students'), 'opposites');
  });

  it('rejects a different unit or time frame', () => {
    assert.equal(verdict('set an alarm at 5 pm', 'set an alarm at 5 am'), 'units');
    assert.equal(verdict('set an alarm for 7am', 'set an alarm for 7pm'), 'numbers');
    assert.equal(verdict('remind me in 3 months', 'remind me in 3 years'), 'units');
    assert.equal(verdict("what is tomorrow's date", "what is today's date"), 'numbers');
    assert.equal(verdict('how many miles is a marathon', 'how many kilometers is a marathon'), 'units');
  });

  it('the same end said another way, and "am" as a verb, are not flips', () => {
    assert.equal(verdict('cheapest flight to Miami', 'least expensive flight to Miami'), undefined);
    assert.equal(verdict('I am 5 and I am bored', 'I am 5 and I am bored!'), undefined);
    assert.equal(verdict('flight from boston to miami', 'I need a flight from boston to miami'), undefined);
    assert.equal(verdict('cheapest flight', 'cheapest flight', { ...rules, opposites: false }), undefined);
    assert.equal(verdict('most memorable day', 'least memorable day', { ...rules, opposites: false }), undefined);
    assert.equal(verdict('in 3 months', 'in 3 years', { ...rules, units: false }), undefined);
  });

  it('lets paraphrases through', () => {
    assert.equal(verdict('How can I lose weight quickly?', 'How do I lose weight fast?'), undefined);
    assert.equal(verdict('What are the best books on machine learning?', 'Which books on machine learning are the best?'), undefined);
    assert.equal(verdict('What is the capital of France?', 'what is the capital of france'), undefined);
  });

  it('each check can be switched off, and the whole guard too', () => {
    assert.equal(verdict('What jobs need 2 years?', 'What jobs need 4 years?', { ...rules, numbers: false }), undefined);
    assert.equal(verdict('at Frost Bank?', 'at Commerce Bank?', { ...rules, enabled: false }), undefined);
    assert.equal(verdict('at Frost Bank?', 'at Commerce Bank?', { ...defaults, enabled: false }), undefined);
  });

  it('an unmatched-word penalty raises the similarity needed', () => {
    const o = { ...rules, unmatched_word_penalty: 0.05 };
    const a = extractFeatures('How do I cook rice in a pan?');
    const b = extractFeatures('How do I cook rice in a pot?');
    assert.equal(guardVerdict(a, b, o, 0.95, 0.89), 'content_words');
    assert.equal(guardVerdict(a, b, o, 0.995, 0.89), undefined);
  });
});

describe('false-hit guard: with the pair scorer (default)', () => {
  const scored = (a: string, b: string, similarity: number) => verdict(a, b, defaults, similarity);

  it('keeps the decisive rules: different numbers, one-sided negation, a swapped entity', () => {
    assert.equal(scored('What jobs can I get with a 2 year degree?', 'What jobs can I get with a 4 year degree?', 0.97), 'numbers');
    assert.equal(scored('How do I reset my account password?', 'How can I not reset my account password?', 0.95), 'negation');
    assert.equal(scored('How do I prepare for an interview at Frost Bank?', 'How do I prepare for an interview at Commerce Bank?', 0.97), 'entities');
  });

  it('an entity named on one side only is left to the scorer', () => {
    const v = scored('What does Hugging Face Hub host?', 'What does the Hub host?', 0.93);
    assert.notEqual(v, 'entities');
  });

  it('serves close paraphrases and rejects a swapped content word', () => {
    assert.equal(scored('How do I reset my account password?', 'How can I reset my account password?', 0.97), undefined);
    assert.equal(scored('What are the best books on machine learning?', 'Which books on machine learning are the best?', 0.95), undefined);
    // At the pair's USE-lite cosine (0.954); the test gives no vectors, so the vector features are unknown to the scorer.
    assert.equal(scored('How do I cook rice in a pan?', 'How do I cook rice in a pot?', 0.954), 'scorer');
  });

  it('min_score moves the decision', () => {
    assert.equal(scored('How do I reset my account password?', 'How can I reset my account password?', 0.97), undefined);
    assert.equal(verdict('How do I reset my account password?', 'How can I reset my account password?', { ...defaults, min_score: 1 }, 0.97), 'scorer');
    assert.equal(verdict('How do I cook rice in a pan?', 'How do I cook rice in a pot?', { ...defaults, min_score: 0 }, 0.95), undefined);
  });

  it('costs microseconds per candidate', () => {
    const a = extractFeatures('What is the best way to learn machine learning from scratch as a beginner with no math background?');
    const b = extractFeatures('How should a beginner without a math background start learning machine learning from scratch?');
    for (let i = 0; i < 2000; i++) guardVerdict(a, b, defaults, 0.93, 0.89);
    const n = 20_000;
    const t = performance.now();
    for (let i = 0; i < n; i++) guardVerdict(a, b, defaults, 0.93, 0.89);
    const perCandidateMs = (performance.now() - t) / n;
    assert.ok(perCandidateMs < 0.1, `guard took ${perCandidateMs} ms per candidate`);
  });

  it('compares the names and words of a long question in one pass, not each against the other side\'s list', () => {
    // The work is the elements Array.prototype.indexOf looked at. A search of the other side's list for each name (same
    // names, same order) or each word (none shared) costs the product of the two lengths: about 24 million here.
    const letters = (i: number): string => {
      let s = '';
      do { s += 'bcfhjkmnpqrtvwxz'[i % 16]; i = Math.floor(i / 16); } while (i > 0);
      return s;
    };
    const list = (prefix: string): string => Array.from({ length: 4000 }, (_, i) => `${prefix}${letters(i)}`).join(' ');
    const names = extractFeatures(`See ${list('Q')}.`), sameNames = extractFeatures(`See ${list('Q')} now.`);
    const words = extractFeatures(`See ${list('zq')}.`), otherWords = extractFeatures(`See ${list('xq')}.`);
    assert.equal(names.entityOrder.length, 4000);
    const original = Array.prototype.indexOf;
    let searched = 0;
    Array.prototype.indexOf = function indexOf(this: unknown[], item: unknown, from?: number): number {
      const at = original.call(this, item, from);
      searched += at < 0 ? this.length : at + 1;
      return at;
    };
    let verdicts: unknown[];
    try {
      verdicts = [guardVerdict(names, sameNames, defaults, 0.95, 0.89), guardVerdict(words, otherWords, defaults, 0.95, 0.89)];
    } finally {
      Array.prototype.indexOf = original;
    }
    assert.deepEqual(verdicts, [undefined, 'scorer']);
    assert.ok(searched <= 100_000, `searched ${searched} list elements`);
  });

  it('a configured model file replaces the shipped model; a bad one fails when the cache is created', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guard-'));
    const strict = join(dir, 'strict.json');
    writeFileSync(strict, formatPairModel({ ...defaultPairScorer().model, cutoff: 1 }));
    const o = { ...defaults, scorer_file: strict };
    const s = resolvePairScorer(o);
    assert.ok(s);
    assert.equal(s.model.cutoff, 1);
    const a = extractFeatures('How do I reset my account password?'), b = extractFeatures('How can I reset my account password?');
    assert.equal(guardVerdict(a, b, o, 0.97, 0.89, s), 'scorer');
    assert.equal(guardVerdict(a, b, defaults, 0.97, 0.89), undefined);
    assert.equal(resolvePairScorer({ scorer: false, scorer_file: strict }), undefined);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ kind: 'gbdt', version: 1, features: ['no_such_feature'], base: 0, rate: 1, trees: [], cutoff: 0.5, threshold: 0.9, dim: 512 }));
    await assert.rejects(SemanticCache.create({ dim: 8, logger, config: { enabled: true, guard: { ...defaults, scorer_file: bad } } }), /unknown feature "no_such_feature"/);
    await assert.rejects(SemanticCache.create({ dim: 8, logger, config: { enabled: true, guard: { ...defaults, scorer_file: join(dir, 'missing.json') } } }), /cannot read pair model/);
  });

  it('a cache whose embedder differs from the model\'s (other dimensions) decides with the rules only', async () => {
    const cache = await SemanticCache.create({ dim: DIM, logger, config: { enabled: true, threshold: 0.5 } });
    const text = 'what is the tallest mountain';
    const key = requestKey(chatCtx({ text }), cache.config) as RequestKey;
    await cache.store(key, standInEmbed(text), fromJsonReply('chat', jsonReply('Everest'))!, { model: 'gpt-test', intent: 'none', ttlS: 60, latencyMs: 1 });
    const query = 'what is the tallest mountain on earth';
    const out = await cache.semantic(query, key.partition, standInEmbed(query), 0.5);
    assert.ok(out.hit, 'rules-only guard serves the near repeat');
    await cache.close();
  });

  it('the cache hands the scorer both vectors: a model deciding on the vector score alone sees them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guard-vectors-'));
    const file = join(dir, 'vector-only.json');
    // Serve when the per-dimension products sum (the cosine) reaches 0.99: weights 1 on products, 0 on differences.
    const weights = [...new Array(DIM).fill(1), ...new Array(DIM).fill(0)];
    writeFileSync(file, formatPairModel({ kind: 'gbdt', version: 1, features: ['vector_score'], base: 0, rate: 1, trees: [[0, 0.99, -5, 5]],
      vector: { bias: 0, weights }, cutoff: 0.5, threshold: 0.5, dim: DIM }));
    const cache = await SemanticCache.create({ dim: DIM, logger, config: { enabled: true, threshold: 0.5, guard: { ...defaults, scorer_file: file } } });
    const text = 'what is the tallest mountain';
    const key = requestKey(chatCtx({ text }), cache.config) as RequestKey;
    await cache.store(key, standInEmbed(text), fromJsonReply('chat', jsonReply('Everest'))!, { model: 'gpt-test', intent: 'none', ttlS: 60, latencyMs: 1 });
    assert.ok((await cache.semantic(text, key.partition, standInEmbed(text), 0.5)).hit, 'the same vector: cosine 1');
    const query = 'what is the tallest mountain on earth';
    const out = await cache.semantic(query, key.partition, standInEmbed(query), 0.5);
    assert.equal(out.hit, undefined);
    assert.deepEqual(out.rejected.map((r) => r.check), ['scorer']);
    assert.ok(out.rejected[0].score < 0.99);
    await cache.close();
  });
});
