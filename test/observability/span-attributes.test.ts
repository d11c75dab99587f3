/**
 * The mapping from a request's facts to span attributes, for facts the end-to-end trace test does not produce (intent from
 * the classifier, a semantic near-miss, a network failure, a multi-choice stream).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/errors.js';
import { attemptEnd, attemptFailed, attemptStart, foldPart, newReplyFacts, stepAttributes } from '../../src/observability/span-attributes.js';
import { newContext } from '../../src/pipeline/build-context.js';
import { ANONYMOUS } from '../../src/pipeline/context.js';

const ctx = () => newContext('chat', { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, {}, ANONYMOUS, new AbortController().signal);

describe('span attributes', () => {
  it('route: the rule, the chain, and the intent with its score when the rules asked for it', () => {
    const c = ctx();
    c.route = { chain: [{ provider: 'a', model: 'm' }, { provider: 'b', model: 'n' }], rule: 'coding-to-a' };
    c.facts.intent = 'coding';
    c.facts.intent_score = 0.87;
    c.facts.rule_chain = ['first', 'coding-to-a'];
    assert.deepEqual(stepAttributes('route', c, undefined), {
      'switchyard.stage': 'route',
      'switchyard.route.rule': 'coding-to-a',
      'switchyard.route.targets': ['a/m', 'b/n'],
      'switchyard.route.rule_chain': ['first', 'coding-to-a'],
      'switchyard.route.intent': 'coding',
      'switchyard.route.intent_score': 0.87,
    });
  });

  it("cache: a semantic miss reports the best candidate's similarity and the threshold", () => {
    const c = ctx();
    c.facts.cache = { outcome: 'miss', best: 0.71, threshold: 0.9 };
    const a = stepAttributes('cache', c, undefined);
    assert.equal(a['switchyard.cache.outcome'], 'miss');
    assert.equal(a['switchyard.cache.similarity'], 0.71);
    assert.equal(a['switchyard.cache.threshold'], 0.9);
  });

  it('a step that refuses carries the failure class and code', () => {
    const err = new GatewayError({ status: 429, message: 'budget', type: 'rate_limit_error', code: 'budget_exceeded', failure: 'policy' });
    const a = stepAttributes('governance', ctx(), err);
    assert.equal(a['error.type'], 'policy');
    assert.equal(a['switchyard.error.code'], 'budget_exceeded');
  });

  it('an attempt that failed without an answer has no HTTP status, only its class', () => {
    const err = new GatewayError({ status: 502, message: 'reset', type: 'upstream_error', code: 'upstream_connection_error', failure: 'upstream' });
    const a = attemptFailed(err);
    assert.equal(a['http.response.status_code'], undefined);
    assert.equal(a['error.type'], 'upstream');
  });

  it('an attempt names the provider system per adapter kind and never the key', () => {
    const a = attemptStart('completion', { provider: 'az', kind: 'azure-openai', model: 'gpt', keyId: 'k1' }, 2);
    assert.equal(a.name, 'text_completion gpt');
    assert.equal(a.attributes['gen_ai.system'], 'az.ai.openai');
    assert.equal(a.attributes['gen_ai.provider.name'], 'azure.ai.openai');
    assert.equal(a.attributes['switchyard.key_id'], 'k1');
    assert.equal(a.attributes['switchyard.attempt'], 2);
  });

  it('typed stream parts fold into the finish reasons of every choice, the response id, model and usage', () => {
    const f = newReplyFacts();
    foldPart(f, { type: 'metadata', id: 'c1', model: 'm-2025', created: 1 });
    foldPart(f, { type: 'text-delta', choice: 0, text: 'a' });
    foldPart(f, { type: 'finish', choice: 0, reason: 'stop' });
    foldPart(f, { type: 'finish', choice: 1, reason: 'length' });
    foldPart(f, { type: 'usage', usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 }, hidden: true });
    assert.deepEqual(attemptEnd(200, f), {
      'http.response.status_code': 200,
      'gen_ai.response.id': 'c1',
      'gen_ai.response.model': 'm-2025',
      'gen_ai.response.finish_reasons': ['stop', 'length'],
      'gen_ai.usage.input_tokens': 3,
      'gen_ai.usage.output_tokens': 5,
    });
  });
});
