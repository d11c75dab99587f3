/**
 * The failure classifier (src/providers/failure.ts) under any upstream status and error body: whatever an upstream says,
 * the error is a whole envelope (a string type and message, a string-or-null param and code), carries no key-like text,
 * and only the words the classifier documents move a failure off the key: a 401/403 naming the OpenAI-Organization or
 * OpenAI-Project header (by a mismatch code, or by the word organization / project when the caller sent that header, the
 * upstream reads it and the provider does not set it), a 429/402 to the account such a header chose (the caller's to wait
 * out), and a 429 whose message says the request alone is over the limit (too large for
 * the account: tried elsewhere, no verdict on the key). No gateway process: this runs
 * the classifier directly, so it is cheap enough for many cases (FUZZ_SCALE multiplies them, FUZZ_SEED fixes the seed).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { GatewayError } from '../../src/errors.js';
import { ACCOUNT_HEADERS, classifyStatus, unexpectedReply, upstreamMessage, upstreamPolicy } from '../../src/providers/failure.js';
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

const policy = upstreamPolicy('p', undefined, undefined, [], ACCOUNT_HEADERS);
/** Three more: OpenAI's with its own OpenAI-Organization header (the operator's: never the caller's to get wrong), and upstreams that read neither header. */
const POLICIES = [policy, upstreamPolicy('p', undefined, undefined, ['openai-organization'], ACCOUNT_HEADERS), upstreamPolicy('p'), upstreamPolicy('p', undefined, undefined, ['openai-organization'])];

/** The account-choosing headers a request may carry besides the gateway's own (the caller's, forwarded). */
const sentHeaders = fc.subarray(['openai-organization', 'openai-project']).map((names) => Object.fromEntries([['authorization', 'Bearer k'], ...names.map((n) => [n, 'x'])]) as Record<string, string>);
/** The word an upstream's refusal of each header uses in its other codes and messages. */
const WORDS: ReadonlyArray<readonly [string, RegExp]> = [['openai-organization', /organi[sz]ation/i], ['openai-project', /project/i]];

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
  it('an HTTP error status: a whole envelope; only a refused header the caller sent (401/403) or the limit of the account it chose (429/402) is the caller\'s, only a request alone over the limit (429) too large', () => {
    fc.assert(fc.property(fc.constantFrom(400, 401, 402, 403, 404, 408, 409, 410, 413, 422, 429, 500, 502, 503, 504, 529), errorBody, sentHeaders, fc.constantFrom(...POLICIES), (status, body, sent, p) => {
      const e = classifyStatus(p, status, body, undefined, sent);
      assert.equal(broken(e), undefined);
      if (status === 401 || status === 403) {
        // The header a mismatch code names (if the request carried it), else one the caller sent whose word the code or message
        // says; never a configured one.
        const c = typeof code(body) === 'string' ? (code(body) as string) : undefined;
        const named = c !== undefined && /^mismatched_(organization|project)$/i.test(c) ? `openai-${c.slice(11).toLowerCase()}` : undefined;
        const said = WORDS.find(([h, w]) => sent[h] !== undefined && p.honoured.has(h) && !p.configured.has(h) && ((c !== undefined && w.test(c)) || w.test(upstreamMessage(body) ?? '')))?.[0];
        const header = named !== undefined ? (p.configured.has(named) || sent[named] === undefined ? undefined : named) : said;
        assert.equal(e.failure === 'caller', header !== undefined, `${status} ${JSON.stringify(body)} with ${Object.keys(sent)} → ${e.failure}`);
        if (header !== undefined) assert.equal(e.param, header);
      }
      if (status === 429 || status === 402) {
        const m = OVER.exec(upstreamMessage(body) ?? '');
        const over = m !== null && Number(m[2]!.replaceAll(',', '')) > Number(m[1]!.replaceAll(',', ''));
        assert.equal(e.failure === 'too_large', over, `${status} ${JSON.stringify(body)} → ${e.failure}`);
        assert.equal(e.status, over ? 413 : 429);
        // A limit of the account the caller's own header chose is the caller's, naming the header; else the key's.
        const chosen = ACCOUNT_HEADERS.find((h) => sent[h] !== undefined && p.honoured.has(h) && !p.configured.has(h));
        if (!over) assert.deepEqual([e.failure, e.param], chosen !== undefined ? ['caller', chosen] : ['rate_limited', null], `${status} ${JSON.stringify(body)} with ${Object.keys(sent)}`);
      }
    }), { numRuns: runs(3000), seed: SEED + 10 });
  });

  it('an error inside a 2xx reply: a whole envelope, whatever its words', () => {
    fc.assert(fc.property(errorBody, (body) => {
      assert.equal(broken(unexpectedReply(policy, body, 'a chat completion')), undefined);
    }), { numRuns: runs(2000), seed: SEED + 11 });
  });
});
