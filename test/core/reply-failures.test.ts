/**
 * Failures after the upstream answered: an `after` hook that throws on a streamed reply. Real stages (governance) run on a
 * real pipeline; the upstream is a started stream whose release says whether it was freed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGovernanceStage } from '../../src/governance/stage.js';
import type { Governance } from '../../src/governance/governance.js';
import { estimatePromptTokens } from '../../src/governance/tokens.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import { runPipeline } from '../../src/pipeline/run.js';
import type { Stage } from '../../src/pipeline/stage.js';
import { upstreamPolicy } from '../../src/providers/failure.js';
import { startStream } from '../../src/providers/openai/start-stream.js';
import type { ProviderReply, StreamPart } from '../../src/providers/types.js';
import { makeCtx, makeGov } from '../governance/helpers.js';

const KEY = 'sk-sy-k-secret-000000000000000000';
const TARGET = { provider: 'test', model: 'm' };
const MAX_TOKENS = 100;
const body = { model: 'm', stream: true, max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: 'Hello there, how are you today?' }] };
// One token costs $0.00001.
const usd = (tokens: number): number => Math.round(tokens * 10) / 1e6;

const withGov = async (fn: (gov: Governance) => Promise<void>): Promise<void> => {
  const gov = await makeGov({
    pricing: { 'test/m': { input: 10, output: 10 } },
    keys: [{ id: 'k', name: 'k', key: KEY, budget: { limit_usd: 10, period: 'total' } }],
  });
  try {
    await fn(gov);
  } finally {
    await gov.close();
  }
};

const used = async (gov: Governance): Promise<number | undefined> => {
  await gov.enforcement.drain();
  return (await gov.usage('keys', 'k')).budget?.used_usd;
};

/** An upstream stream that started (its first part arrived); `released` records the upstream being freed. */
async function upstream(ctx: RequestContext, released: boolean[]): Promise<ProviderReply> {
  const parts: StreamPart[] = [{ type: 'text-delta', choice: 0, text: 'Hi' }, { type: 'text-delta', choice: 0, text: ' there' }, { type: 'done' }];
  let i = 0;
  const source: AsyncIterator<StreamPart> = {
    next: () => Promise.resolve(i < parts.length ? { done: false, value: parts[i++] } : { done: true, value: undefined }),
  };
  const reply = await startStream(upstreamPolicy('test'), 200, source, new AbortController().signal, (clean) => released.push(clean));
  ctx.attempts.push({ provider: 'test', model: 'm', keyId: 'a', status: 200, latencyMs: 1 });
  return reply;
}

describe('failures after the upstream answered', () => {
  for (const order of ['after governance', 'before governance'] as const) {
    it(`an after hook that throws on a streamed reply (${order}'s) closes the stream; accounting matches a JSON reply's`, async () => {
      await withGov(async (gov) => {
        const released: boolean[] = [];
        const failing: Stage = { name: 'failing', before() {}, after() { throw new Error('after-hook failed'); } };
        const governance = createGovernanceStage({ governance: gov });
        // `after` hooks run in reverse: a stage listed before governance fails after governance observed the reply.
        const stages = order === 'after governance' ? [failing, governance] : [governance, failing];
        const caller = await gov.authenticate(`Bearer ${KEY}`);
        const ctx: RequestContext = { ...makeCtx(caller, { model: 'm', body: structuredClone(body), route: { chain: [TARGET], rule: 'r' }, stream: true }), afterReply: [] };
        await assert.rejects(runPipeline(ctx, stages, (c) => upstream(c, released)), /after-hook failed/);
        assert.deepEqual(released, [false], 'the upstream stream was closed');
        // Governance saw the reply: settled on what was paid (as a JSON reply is). It did not: nothing to settle, released.
        assert.equal(await used(gov), order === 'after governance' ? usd(estimatePromptTokens(body)) : 0);
      });
    });
  }
});
