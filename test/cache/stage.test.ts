import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SemanticCache } from '../../src/cache/semantic-cache.js';
import { createCacheStage } from '../../src/cache/stage.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { ProviderReply, StreamReply } from '../../src/providers/types.js';
import { DIM, chatCtx, collect, embedCtx, iterate, jsonReply, logger, streamParts } from './helpers.js';
import { partsOfChunks } from '../helpers/stream-parts.js';
import type { Chunk } from '../../src/providers/openai/openai-api.js';
import { StreamCapture } from '../../src/cache/reply.js';

async function setup(config: Record<string, unknown> = {}, now?: () => number) {
  const cache = await SemanticCache.create({ dim: DIM, logger, config: { enabled: true, threshold: 0.8, ...config }, now, priceOf: (_m, u) => u.total_tokens * 1e-6 });
  let embeds = 0;
  const stage = createCacheStage({ cache, logger, embed: async (ctx) => { embeds++; return embedCtx(ctx); } });
  /** Runs the stage around an upstream that answers `answer`; returns the delivered reply and whether upstream was called. */
  const roundTrip = async (ctx: RequestContext, answer: () => ProviderReply | Promise<ProviderReply>) => {
    const short = await stage.before!(ctx);
    if (short) return { reply: short, upstream: false };
    const reply = stage.after!(ctx, await answer());
    if (reply.kind === 'stream') await collect(reply.parts);
    return { reply, upstream: true };
  };
  return { cache, stage, roundTrip, embeds: () => embeds };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('cache stage (memory store)', () => {
  it('misses, stores, then hits exactly and semantically; hits cost nothing', async () => {
    const { cache, roundTrip } = await setup();
    const first = chatCtx({ text: 'What is the capital city of France?' });
    assert.equal((await roundTrip(first, () => jsonReply('Paris'))).upstream, true);
    assert.equal(first.replyHeaders['x-switchyard-cache'], 'miss');
    await settle();
    const again = chatCtx({ text: 'What is the capital city of France?' });
    const hit = await roundTrip(again, () => { throw new Error('upstream must not be called'); });
    assert.equal(again.replyHeaders['x-switchyard-cache'], 'hit-exact');
    assert.equal(again.usage, undefined);
    assert.equal(hit.reply.kind === 'json' && (hit.reply.body.choices as any)[0].message.content, 'Paris');
    const similar = chatCtx({ text: 'what is the capital city of france' });
    await roundTrip(similar, () => { throw new Error('upstream must not be called'); });
    assert.equal(similar.replyHeaders['x-switchyard-cache'], 'hit-semantic');
    assert.ok(Number(similar.replyHeaders['x-switchyard-cache-similarity']) > 0.8);
    const s = cache.snapshot();
    assert.equal(s.totals.hits_exact, 1);
    assert.equal(s.totals.hits_semantic, 1);
    assert.equal(s.totals.misses, 1);
    assert.equal(s.totals.prompt_tokens_saved, 20);
    assert.ok(s.totals.cost_saved_usd > 0);
    assert.equal(s.by_tenant['vk:vk1'].hits_exact, 1);
    await cache.close();
  });

  it('keeps tenants, models and system prompts apart', async () => {
    const { cache, roundTrip } = await setup();
    await roundTrip(chatCtx({ text: 'Tell me a joke about cats' }), () => jsonReply('A'));
    await settle();
    for (const ctx of [chatCtx({ text: 'Tell me a joke about cats', caller: { virtualKeyId: 'other' } }),
      chatCtx({ text: 'Tell me a joke about cats', model: 'm2' }), chatCtx({ text: 'Tell me a joke about cats', system: 'Be brief' })]) {
      const r = await roundTrip(ctx, () => jsonReply('B'));
      assert.equal(r.upstream, true);
    }
    await cache.close();
  });

  it('guard rejects a look-alike question and counts the check', async () => {
    const { cache, roundTrip } = await setup({ threshold: 0.5 });
    await roundTrip(chatCtx({ text: 'What is it like to interview at Frost Bank?' }), () => jsonReply('A'));
    await settle();
    const other = chatCtx({ text: 'What is it like to interview at Commerce Bank?' });
    assert.equal((await roundTrip(other, () => jsonReply('B'))).upstream, true);
    assert.deepEqual((other.facts.cache as { guard?: string[] }).guard, ['entities']);
    assert.equal(cache.snapshot().totals.guard_rejections.entities, 1);
    await cache.close();
  });

  it('stores a completed stream and replays it to streaming and non-streaming requests; never stores a broken one', async () => {
    const { cache, roundTrip } = await setup();
    const broken = chatCtx({ text: 'stream me something', stream: true });
    await roundTrip(broken, () => ({ kind: 'stream', status: 200, parts: iterate(streamParts({ error: true })) }));
    await settle();
    assert.equal(cache.entries, 0);
    await roundTrip(chatCtx({ text: 'stream me something', stream: true }), () => ({ kind: 'stream', status: 200, parts: iterate(streamParts()) }));
    await settle();
    assert.equal(cache.entries, 1);
    const s = chatCtx({ text: 'stream me something', stream: true, body: { stream_options: { include_usage: true } } });
    const hit = (await roundTrip(s, () => { throw new Error('no upstream'); })).reply as StreamReply;
    const cap = new StreamCapture('chat');
    for (const p of await collect(hit.parts)) cap.onPart(p);
    assert.equal((cap.result()!.body.choices as any)[0].message.content, 'Hello world');
    const j = await roundTrip(chatCtx({ text: 'stream me something' }), () => { throw new Error('no upstream'); });
    assert.equal(j.reply.kind, 'json');
    assert.equal((j.reply as any).body.choices[0].message.tool_calls[0].function.arguments, '{"q":"x"}');
    await cache.close();
  });

  it('captures a chunk of 200 000 log-probabilities whole, the stream reaching its end', async () => {
    // Appended by spreading them into push(), a chunk past about 120 000 entries (well within the 8 MB SSE event cap)
    // overflowed the call stack and ended the caller's stream with an internal error. (Kept: the entry bound raised for it.)
    const { cache, roundTrip } = await setup({ max_entry_kb: 65_536 });
    const logprobs = Array.from({ length: 200_000 }, (_, i) => ({ token: 't', logprob: -i / 1e6, bytes: null, top_logprobs: [] }));
    const chunk = (choices: unknown[]): Chunk => ({ id: 'chatcmpl-l', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-test', choices } as Chunk);
    const parts = partsOfChunks([
      chunk([{ index: 0, delta: { role: 'assistant', content: 'many' }, logprobs: { content: logprobs }, finish_reason: null }]),
      chunk([{ index: 0, delta: { content: '!' }, logprobs: { content: [{ token: '!', logprob: 0, bytes: null, top_logprobs: [] }] }, finish_reason: 'stop' }]),
    ]);
    parts.push({ type: 'done' });
    const ctx = chatCtx({ text: 'tokens with their log-probabilities', stream: true });
    const first = await roundTrip(ctx, () => ({ kind: 'stream', status: 200, parts: iterate(parts) }));
    assert.equal(first.upstream, true);
    await settle();
    assert.equal(cache.entries, 1);
    const hit = await roundTrip(chatCtx({ text: 'tokens with their log-probabilities' }), () => { throw new Error('no upstream'); });
    const choice = (hit.reply as any).body.choices[0];
    assert.equal(choice.message.content, 'many!');
    assert.equal(choice.logprobs.content.length, 200_001);
    assert.deepEqual(choice.logprobs.content[199_999], logprobs[199_999]);
    assert.equal(choice.logprobs.content[200_000].token, '!');
    await cache.close();
  });

  it('serves a reply over cache.max_entry_kb without storing it', async () => {
    const { cache, roundTrip } = await setup({ max_entry_kb: 1 });
    const big = await roundTrip(chatCtx({ text: 'a long answer please' }), () => jsonReply('x'.repeat(2000)));
    assert.equal(big.upstream, true);
    assert.equal((big.reply as any).body.choices[0].message.content.length, 2000);
    await settle();
    assert.equal(cache.entries, 0);
    await roundTrip(chatCtx({ text: 'a short answer please' }), () => jsonReply('ok'));
    await settle();
    assert.equal(cache.entries, 1);
    await cache.close();
  });

  it('coalesces concurrent identical misses into one upstream call', async () => {
    const { cache, stage } = await setup();
    const ctxs = Array.from({ length: 8 }, () => chatCtx({ text: 'single flight question' }));
    let upstream = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const results = ctxs.map(async (ctx) => {
      const short = await stage.before!(ctx);
      if (short) return short;
      upstream++;
      await gate;
      return stage.after!(ctx, jsonReply('shared'));
    });
    await settle(); await settle();
    release();
    const replies = await Promise.all(results);
    assert.equal(upstream, 1);
    for (const r of replies) assert.equal((r as any).body.choices[0].message.content, 'shared');
    assert.equal(cache.snapshot().totals.hits_coalesced, 7);
    await cache.close();
  });

  it('followers go upstream themselves when the leader fails', async () => {
    const { cache, stage } = await setup();
    const [leader, follower] = [chatCtx({ text: 'q fails' }), chatCtx({ text: 'q fails' })];
    assert.equal(await stage.before!(leader), undefined);
    const waiting = stage.before!(follower);
    stage.failed!(leader, new Error('x') as never);
    assert.equal(await waiting, undefined);
    await cache.close();
  });

  it('expires entries after their TTL (injected clock) and honours the TTL header', async () => {
    let now = 1_000_000;
    const { cache, roundTrip } = await setup({ ttl_s: 60 }, () => now);
    await roundTrip(chatCtx({ text: 'ttl question', headers: { 'x-switchyard-cache-ttl': '5' } }), () => jsonReply('A'));
    await settle();
    now += 4_000;
    assert.equal((await roundTrip(chatCtx({ text: 'ttl question' }), () => jsonReply('B'))).upstream, false);
    now += 2_000;
    assert.equal((await roundTrip(chatCtx({ text: 'ttl question' }), () => jsonReply('B'))).upstream, true);
    await cache.close();
  });

  it('evicts the least recently used entry beyond max_entries', async () => {
    const { cache, roundTrip } = await setup({ max_entries: 2, semantic: false });
    for (const t of ['alpha one', 'beta two']) { await roundTrip(chatCtx({ text: t }), () => jsonReply(t)); await settle(); }
    await roundTrip(chatCtx({ text: 'alpha one' }), () => jsonReply('x'));
    await roundTrip(chatCtx({ text: 'gamma three' }), () => jsonReply('g'));
    await settle();
    assert.equal(cache.entries, 2);
    assert.equal((await roundTrip(chatCtx({ text: 'alpha one' }), () => jsonReply('x'))).upstream, false);
    assert.equal(cache.snapshot().totals.evictions.lru, 1);
    assert.equal((await roundTrip(chatCtx({ text: 'beta two' }), () => jsonReply('x'))).upstream, true);
    await cache.close();
  });

  it('controls: bypass, no-store, refresh, threshold header only raises, policy', async () => {
    const { cache, roundTrip } = await setup();
    const nostore = chatCtx({ text: 'control q', headers: { 'x-switchyard-cache': 'no-store' } });
    await roundTrip(nostore, () => jsonReply('A'));
    await settle();
    assert.equal(cache.entries, 0);
    await roundTrip(chatCtx({ text: 'control q' }), () => jsonReply('A'));
    await settle();
    const bypass = chatCtx({ text: 'control q', headers: { 'x-switchyard-cache': 'bypass' } });
    assert.equal((await roundTrip(bypass, () => jsonReply('B'))).upstream, true);
    assert.equal(bypass.replyHeaders['x-switchyard-cache'], 'bypass');
    const strict = chatCtx({ text: 'control q please', headers: { 'x-switchyard-cache-threshold': '0.999' } });
    assert.equal((await roundTrip(strict, () => jsonReply('C'))).upstream, true);
    const lower = chatCtx({ text: 'control q', headers: { 'x-switchyard-cache-threshold': '0.1' } });
    await roundTrip(lower, () => jsonReply('D'));
    const policy = chatCtx({ text: 'control q' });
    policy.route = { chain: [], rule: 'r', cache: { enabled: false } };
    assert.equal((await roundTrip(policy, () => jsonReply('E'))).upstream, true);
    assert.equal(policy.replyHeaders['x-switchyard-cache'], 'skip');
    const refresh = chatCtx({ text: 'control q', headers: { 'x-switchyard-cache': 'refresh' } });
    assert.equal((await roundTrip(refresh, () => jsonReply('F'))).upstream, true);
    await settle();
    const after = await roundTrip(chatCtx({ text: 'control q' }), () => jsonReply('G'));
    assert.equal((after.reply as any).body.choices[0].message.content, 'F');
    assert.equal(cache.snapshot().totals.skips.policy, 1);
    await cache.close();
  });

  it('warns when the threshold header would lower the threshold', async () => {
    const { cache, stage } = await setup();
    const ctx = chatCtx({ text: 'some question', headers: { 'x-switchyard-cache-threshold': '0.1' } });
    await stage.before!(ctx);
    assert.ok(ctx.warnings.some((w) => w.includes('may only raise')));
    await cache.close();
  });

  it('cache_similarity is memoised and shares the embedding with the lookup', async () => {
    const { cache, roundTrip, stage, embeds } = await setup();
    await roundTrip(chatCtx({ text: 'the quick brown fox' }), () => jsonReply('A'));
    await settle();
    const ctx = chatCtx({ text: 'the quick brown fox jumps' });
    const before = embeds();
    const s1 = await stage.similarity(ctx);
    const s2 = await stage.similarity(ctx);
    assert.ok(s1 > 0.5 && s1 < 1);
    assert.equal(s1, s2);
    await stage.before!(ctx);
    assert.equal(embeds() - before, 1);
    assert.equal(await stage.similarity(chatCtx({ text: 'the quick brown fox', model: 'empty-partition' })), 0);
    await cache.close();
  });
});
