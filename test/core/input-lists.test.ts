/** The bound on lists of inputs (server.limits.max_messages), as OpenAI bounds them, checked when the body is validated. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../src/errors.js';
import { validateBody } from '../../src/pipeline/build-context.js';

const refusal = (fn: () => void): GatewayError => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    return err;
  }
  assert.fail('expected a refusal');
};

test('an embeddings input or completions prompt list of more inputs than the bound is a 400 naming it; a token array is one input', () => {
  for (const [op, field] of [['embedding', 'input'], ['completion', 'prompt']] as const) {
    for (const list of [Array(2049).fill('a'), Array(2049).fill([1])]) {
      const e = refusal(() => validateBody(op, { model: 'm', [field]: list }, 2048));
      assert.equal(e.status, 400);
      assert.equal(e.code, 'array_above_max_length');
      assert.equal(e.param, field);
    }
    validateBody(op, { model: 'm', [field]: Array(2048).fill('a') }, 2048);
    validateBody(op, { model: 'm', [field]: Array(8192).fill(7) }, 2048);
  }
  const chat = refusal(() => validateBody('chat', { model: 'm', messages: Array(3).fill({ role: 'user', content: 'x' }) }, 2));
  assert.equal(chat.param, 'messages');
  assert.equal(chat.code, 'array_above_max_length');
});
