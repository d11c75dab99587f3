import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_PRICES, parsePriceFile, Pricing } from '../../src/governance/pricing.js';
import { estimatePromptTokens, estimateTokens, reservedCompletionTokens, TokenCounter } from '../../src/governance/tokens.js';
import { compileAllowList } from '../../src/governance/patterns.js';

test('price lookup: overrides, built-ins, dated snapshots, vendor prefixes, unknown', () => {
  const unknown: string[] = [];
  const p = new Pricing({
    overrides: { 'groq/llama-3.1-8b-instant': { input: 1, output: 2 }, 'my-model': { input: 3, output: 4 } },
    unknown: { input: 9, output: 9 },
    onUnknown: (prov, model) => unknown.push(`${prov}/${model}`),
  });
  assert.deepEqual(p.priceOf('groq', 'llama-3.1-8b-instant').price, { input: 1, output: 2 });
  assert.deepEqual(p.priceOf('other', 'llama-3.1-8b-instant').price, { input: 0.05, output: 0.08 });
  assert.deepEqual(p.priceOf('x', 'my-model').price, { input: 3, output: 4 });
  assert.deepEqual(p.priceOf('openai', 'gpt-4o-mini-2024-07-18').price, { input: 0.15, output: 0.6, cached_input: 0.075 });
  assert.deepEqual(p.priceOf('openai', 'gpt-4o-2024-08-06').price, { input: 2.5, output: 10, cached_input: 1.25 });
  assert.deepEqual(p.priceOf('anthropic', 'claude-3-5-sonnet-20241022').price, { input: 3, output: 15, cached_input: 0.3 });
  assert.deepEqual(p.priceOf('openrouter', 'openai/gpt-4o-mini').price, { input: 0.15, output: 0.6, cached_input: 0.075 });
  const u = p.priceOf('acme', 'mystery');
  assert.equal(u.known, false);
  assert.deepEqual(u.price, { input: 9, output: 9 });
  p.priceOf('acme', 'mystery');
  assert.deepEqual(unknown, ['acme/mystery'], 'unknown models are reported once');
  // A prefix only counts at a boundary: 'gpt-4ox' is not a gpt-4 snapshot.
  assert.equal(p.priceOf('openai', 'gpt-4ox').known, false);
});

test('a model named like an Object.prototype member (constructor, toString, __proto__) is unpriced, never a price of NaN', () => {
  const unknown: string[] = [];
  const p = new Pricing({ overrides: { 'my-model': { input: 3, output: 4 } }, unknown: { input: 9, output: 9 }, onUnknown: (prov, model) => unknown.push(`${prov}/${model}`) });
  const usage = { prompt_tokens: 1000, completion_tokens: 1000, total_tokens: 2000 };
  for (const model of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'vendor/constructor']) {
    assert.deepEqual(p.priceOf('p', model), { price: { input: 9, output: 9 }, known: false }, model);
    assert.equal(p.usageNanos('p', model, usage), 18_000_000, model);
    assert.equal(p.costNanos('p', model, 1000, 1000), 18_000_000, model);
  }
  assert.equal(unknown.length, 6);
});

test('costOf and integer nano-dollar arithmetic', () => {
  const p = new Pricing();
  // 1000 prompt tokens at $0.15/M + 500 completion at $0.60/M = $0.00015 + $0.0003
  assert.equal(p.costNanos('openai', 'gpt-4o-mini', 1000, 500), 450_000);
  assert.equal(p.costOf('openai', 'gpt-4o-mini', { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 }), 0.00045);
  assert.equal(p.costNanos('openai', 'gemini-1.5-flash', 1, 0), 75);
});

test('usage cost: cached prompt tokens and reasoning tokens at their own prices, defaulting to input and output', () => {
  const p = new Pricing({ overrides: { thinker: { input: 2, output: 8, cached_input: 0.5, reasoning: 4 }, plain: { input: 2, output: 8 } } });
  const usage = {
    prompt_tokens: 1000, completion_tokens: 600, total_tokens: 1600,
    prompt_tokens_details: { cached_tokens: 400 }, completion_tokens_details: { reasoning_tokens: 200 },
  };
  // 600 × 2 + 400 × 0.5 + 400 × 8 + 200 × 4 = 1200 + 200 + 3200 + 800 = 5400 USD per million → 5,400,000 nano-dollars
  assert.equal(p.usageNanos('x', 'thinker', usage), 5_400_000);
  // Without the two prices every token is at input or output: 1000 × 2 + 600 × 8 = 6800
  assert.equal(p.usageNanos('x', 'plain', usage), 6_800_000);
  // Details larger than the totals are clamped, never negative.
  assert.equal(p.usageNanos('x', 'thinker', { prompt_tokens: 10, completion_tokens: 0, total_tokens: 10, prompt_tokens_details: { cached_tokens: 99 } }), 5_000);
});

test('the shipped price file parses, and a broken one is refused naming the entry', () => {
  assert.ok(Object.keys(BUILTIN_PRICES).length > 40);
  assert.throws(() => parsePriceFile('models:\n  m: { input: -1, output: 1 }\n', 'prices.yaml'), /prices\.yaml: models\.m\.input/);
  assert.throws(() => parsePriceFile('models:\n  m: { input: 1, output: 1, extra: 2 }\n', 'prices.yaml'), /prices\.yaml/);
});

test('token estimates are in a plausible range for English, code, digits and CJK', () => {
  assert.equal(estimateTokens(''), 0);
  assert.equal(estimateTokens('hello'), 1);
  assert.equal(estimateTokens('Hello, world!'), 4);
  const sentence = 'The quick brown fox jumps over the lazy dog.'; // cl100k: 10
  const n = estimateTokens(sentence);
  assert.ok(n >= 9 && n <= 12, `sentence estimate ${n}`);
  const digits = estimateTokens('1234567890'); // cl100k: 4
  assert.ok(digits >= 3 && digits <= 5, `digits ${digits}`);
  assert.equal(estimateTokens('你好世界'), 4);
  const code = estimateTokens('function add(a, b) {\n  return a + b;\n}\n'); // cl100k: ~14
  assert.ok(code >= 10 && code <= 20, `code ${code}`);
});

test('streaming counter equals one-shot estimate regardless of how text is split', () => {
  const text = 'Streaming replies arrive in small deltas; words are often split across them, like inter national.';
  const whole = estimateTokens(text);
  for (const size of [1, 2, 3, 7, 13]) {
    const c = new TokenCounter();
    for (let i = 0; i < text.length; i += size) c.push(text.slice(i, i + size));
    assert.equal(c.total, whole, `split every ${size}`);
  }
});

test('prompt estimates cover messages, parts, prompts and embeddings inputs; reservations use the caps', () => {
  const chat = estimatePromptTokens({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Hi there' }, { type: 'image_url', image_url: { url: 'x', detail: 'low' } }] }] });
  // 3 priming + 2 * 3 per message + 85 image + text tokens (Be brief. = 3, Hi there = 2)
  assert.equal(chat, 3 + 6 + 85 + 3 + 2);
  assert.equal(estimatePromptTokens({ prompt: ['one two', 'three'] }), 3);
  assert.equal(estimatePromptTokens({ input: [[1, 2, 3], [4]] }), 4);
  assert.equal(reservedCompletionTokens({ max_tokens: 50, n: 2 }, false, 1024), 100);
  assert.equal(reservedCompletionTokens({ max_completion_tokens: 70, max_tokens: 50 }, false, 1024), 70);
  assert.equal(reservedCompletionTokens({}, false, 1024), 1024);
  assert.equal(reservedCompletionTokens({ max_tokens: 50 }, true, 1024), 0);
});

test('allow-list patterns', () => {
  const m = compileAllowList(['openai/*', '*/gpt-4o-mini', 'fast']);
  assert.equal(m('anything', { provider: 'openai', model: 'gpt-4o' }), true);
  assert.equal(m('x', { provider: 'groq', model: 'gpt-4o-mini' }), true);
  assert.equal(m('fast', { provider: 'groq', model: 'llama-3.1-8b-instant' }), true, 'alias the caller sent');
  assert.equal(m('slow', { provider: 'anthropic', model: 'claude-3-opus' }), false);
  assert.equal(m('x', { provider: 'openai-compat', model: 'gpt-4o' }), false, 'provider glob is anchored');
  const bare = compileAllowList(['gpt-4o*']);
  assert.equal(bare('auto', { provider: 'openai', model: 'gpt-4o-mini' }), true, 'bare patterns also match the routed model');
  assert.equal(bare('auto', { provider: 'openai', model: 'o1' }), false);
  assert.equal(compileAllowList(['*'])('x', { provider: 'a', model: 'b' }), true);
  assert.equal(compileAllowList([])('x', { provider: 'a', model: 'b' }), false);
  assert.equal(compileAllowList(['a.b'])('axb', { provider: 'p', model: 'q' }), false, 'regex characters are literal');
  const mid = compileAllowList(['*llama*70b*', 'x*']);
  assert.equal(mid('m', { provider: 'groq', model: 'meta-llama-3.1-70b-versatile' }), true);
  assert.equal(mid('m', { provider: 'groq', model: 'meta-llama-3.1-8b' }), false);
  assert.equal(mid('x', { provider: 'groq', model: 'q' }), true);
});

test('an allow-list pattern with many stars checks a long model name a caller sends at once', () => {
  // As a regular expression, ^a.*a.*…b$ against a run of 'a' backtracks for hours at the longest model name accepted (256).
  const m = compileAllowList(['a*a*a*a*a*a*a*a*a*b', 'p/a*a*a*a*a*a*a*a*a*b']);
  const name = 'a'.repeat(256);
  assert.equal(m(name, { provider: 'p', model: name }), false);
  assert.equal(m(`${name}b`, { provider: 'q', model: 'x' }), true);
});
