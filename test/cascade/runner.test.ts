import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cascadeSchema } from '../../src/cascade/config.js';
import { runCascade } from '../../src/cascade/runner.js';
import { ANONYMOUS, type RequestContext } from '../../src/pipeline/context.js';
import type { ProviderReply } from '../../src/providers/types.js';

const usage = (n: number) => ({ prompt_tokens: n, completion_tokens: n, total_tokens: 2 * n });

function ctxWith(body: Record<string, unknown>, upstreamBody?: Record<string, unknown>): RequestContext {
  const tiers = cascadeSchema.parse([
    { provider: 'cheap', model: 's', checks: { refusal: true, judge: { provider: 'judge', model: 'j' } } },
    { provider: 'strong', model: 'b' },
  ]);
  return {
    id: 'r', startedAt: 0, op: 'chat', protocol: 'openai.chat', requestType: 'chat_completion', body, model: 'auto', stream: false, headers: {}, caller: ANONYMOUS,
    signal: new AbortController().signal, attempts: [], warnings: [], replyHeaders: {}, facts: {},
    route: { chain: tiers.map((t) => ({ provider: t.provider, model: t.model })), rule: 'r', cascade: tiers },
    ...(upstreamBody ? { upstreamBody } : {}),
  };
}

/** An executor standing in for executeChain: answers per target, records what each call was sent and its attempt. */
function executor(answers: Record<string, string>) {
  const sent: Array<{ target: string; body: Record<string, unknown> }> = [];
  const execute = async (c: RequestContext): Promise<ProviderReply> => {
    const t = c.route!.chain[0]!;
    const key = `${t.provider}/${t.model}`;
    sent.push({ target: key, body: (c.upstreamBody ?? c.body) as Record<string, unknown> });
    c.attempts.push({ provider: t.provider, model: t.model, keyId: 'k', status: 200, latencyMs: 1 });
    c.usage = usage(key === 'judge/j' ? 1 : key === 'cheap/s' ? 10 : 100);
    return { kind: 'json', status: 200, body: { choices: [{ index: 0, message: { role: 'assistant', content: answers[key] }, finish_reason: 'stop' }] }, usage: c.usage };
  };
  return { sent, execute };
}

describe('cascade runner', () => {
  it('sends the redacted body to tiers and a clean judge prompt to the judge; sums usage; answering tier last', async () => {
    const ctx = ctxWith({ messages: [{ role: 'user', content: 'my email is a@b.c' }] }, { messages: [{ role: 'user', content: 'my email is [EMAIL]' }] });
    const { sent, execute } = executor({ 'cheap/s': 'A fine answer.', 'judge/j': '3', 'strong/b': 'A better answer.' });
    const reply = await runCascade(ctx, { execute });
    assert.equal(reply.kind, 'json');
    assert.deepEqual(sent.map((s) => s.target), ['cheap/s', 'judge/j', 'strong/b']);
    assert.match(JSON.stringify(sent[0]!.body), /\[EMAIL\]/);
    const judgePrompt = JSON.stringify(sent[1]!.body);
    assert.match(judgePrompt, /\[EMAIL\]/);
    assert.doesNotMatch(judgePrompt, /a@b\.c/);
    assert.equal(sent[1]!.body.model, 'j');
    assert.deepEqual(ctx.usage, usage(111));
    assert.deepEqual(ctx.attempts.map((a) => a.provider), ['cheap', 'judge', 'strong']);
    assert.equal(ctx.replyHeaders['x-switchyard-cascade-tier'], '1 strong/b');
    const facts = ctx.facts.cascade as { tiers: Array<{ outcome: string; reason?: string; judge_usage?: unknown }> };
    assert.deepEqual(facts.tiers.map((t) => [t.outcome, t.reason]), [['failed', 'judge_score'], ['answered_unchecked', undefined]]);
  });

  it('a passing tier is moved after the judge in the attempts, so the answering tier is the last success', async () => {
    const ctx = ctxWith({ messages: [{ role: 'user', content: 'hi' }] });
    const { execute } = executor({ 'cheap/s': 'Hello! How can I help you today?', 'judge/j': '9' });
    await runCascade(ctx, { execute });
    assert.deepEqual(ctx.attempts.map((a) => a.provider), ['judge', 'cheap']);
    assert.equal(ctx.replyHeaders['x-switchyard-provider'], 'cheap');
    assert.equal(ctx.replyHeaders['x-switchyard-cascade-escalations'], '0');
  });
});
