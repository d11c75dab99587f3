/**
 * The failure classifier (src/providers/failure.ts) under any upstream status and error body: whatever an upstream says,
 * the error is a whole envelope (a string type and message, a string-or-null param and code), carries no key-like text,
 * and only the words the classifier documents move a failure off the key: a 401/403 naming the OpenAI-Organization or
 * OpenAI-Project header (the caller's), and a 429 whose message says the request alone is over the limit (too large for
 * the account: tried elsewhere, no verdict on the key). No gateway process: this runs
 * the classifier directly, so it is cheap enough for many cases (FUZZ_SCALE multiplies them, FUZZ_SEED fixes the seed).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { GatewayError } from '../../src/errors.js';
import { classifyStatus, unexpectedReply, upstreamMessage, upstreamPolicy } from '../../src/providers/failure.js';
import { classifiedError } from './arbitraries.js';

const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20_240_611;
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));

/** An upstream error body: OpenAI's shape, Anthropic's, an error that is only a string, or any JSON at all. */
const errorBody = fc.oneof(
  { weight: 3, arbitrary: classifiedError.map((error) => ({ error })) },
  { weight: 2, arbitrary: classifiedError.map((error) => ({ type: 'error', error })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((error) => ({ error })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

const policy = upstreamPolicy('p');

/** Why the error is not a whole envelope, if it is not. */
function broken(e: GatewayError): string | undefined {
  const j = JSON.parse(JSON.stringify(e.toJSON())) as { error: Record<string, unknown> };
  const { message, type, param, code } = j.error;
  if (typeof message !== 'string' || typeof type !== 'string') return `message or type is not a string: ${JSON.stringify(j)}`;
  if (!(param === null || typeof param === 'string') || !(code === null || typeof code === 'string')) return `param or code is neither a string nor null: ${JSON.stringify(j)}`;
  if (!Number.isInteger(e.status) || e.status < 400 || e.status > 599) return `status ${e.status}`;
  if (/sk-leaked-0123456789abcdef/.test(message)) return 'an upstream-echoed key in the message';
  return undefined;
}

const code = (body: unknown): unknown => (body as { error?: { code?: unknown } } | null)?.error?.code;
const OVER = /\blimit:?\s*(\d[\d,]*)\s*,\s*requested:?\s*(\d[\d,]*)/i;

describe('failure classification under any upstream status and body', () => {
  it('an HTTP error status: a whole envelope; only a header mismatch (401/403) is the caller\'s, only a request alone over the limit (429) too large', () => {
    fc.assert(fc.property(fc.constantFrom(400, 401, 402, 403, 404, 408, 409, 410, 413, 422, 429, 500, 502, 503, 504, 529), errorBody, (status, body) => {
      const e = classifyStatus(policy, status, body, undefined);
      assert.equal(broken(e), undefined);
      if (status === 401 || status === 403) {
        const header = typeof code(body) === 'string' && /^mismatched_(organization|project)$/i.test(code(body) as string);
        assert.equal(e.failure === 'caller', header, `${status} ${JSON.stringify(body)} → ${e.failure}`);
        if (header) assert.match(e.param ?? '', /^openai-(organization|project)$/);
      }
      if (status === 429) {
        const m = OVER.exec(upstreamMessage(body) ?? '');
        const over = m !== null && Number(m[2]!.replaceAll(',', '')) > Number(m[1]!.replaceAll(',', ''));
        assert.equal(e.failure === 'too_large', over, `429 ${JSON.stringify(body)} → ${e.failure}`);
        assert.equal(e.status, over ? 413 : 429);
      }
    }), { numRuns: runs(3000), seed: SEED + 10 });
  });

  it('an error inside a 2xx reply: a whole envelope, whatever its words', () => {
    fc.assert(fc.property(errorBody, (body) => {
      assert.equal(broken(unexpectedReply(policy, body, 'a chat completion')), undefined);
    }), { numRuns: runs(2000), seed: SEED + 11 });
  });
});
