import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultCacheConfig } from '../../src/cache/config.js';
import fc from 'fast-check';
import { canonical, isSkip, MAX_SEMANTIC_TEXT, normaliseText, requestKey, type RequestKey } from '../../src/cache/request-key.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { chatCtx } from './helpers.js';

const cfg = defaultCacheConfig();
const key = (ctx: ReturnType<typeof chatCtx>): RequestKey => {
  const k = requestKey(ctx, cfg);
  assert.ok(!isSkip(k), `unexpected skip ${JSON.stringify(k)}`);
  return k;
};

describe('canonical request key', () => {
  it('keys are the same from one version to the next: a Redis store keeps its entries across an upgrade', () => {
    // Digests of the format as first shipped (each piece fed to the hash in turn); the key is now hashed in one call.
    const keyed = (ctx: Parameters<typeof requestKey>[0]): RequestKey => requestKey(ctx, { ...cfg, embeddings: true }) as RequestKey;
    const tools = [{ type: 'function', function: { name: 'f', parameters: { b: 1, a: [true, null, 2.5e-7] } } }];
    const cases: Array<[Parameters<typeof requestKey>[0], string, string]> = [
      [chatCtx({ text: 'What is the capital of France?' }), 'd7141987997d6acd5ce1fbc51c99be61', '6OxHwbQlpBEBtlWMc9FcJ00OLcKQFONb4iW1UVV60Mk'],
      [chatCtx({ system: 'Answer in French.', text: 'Hi  there\t\n\n\n\nfriend ', body: { temperature: 0.5, stop: ['x', 'y'], seed: 3, tools } }), 'db391de57559d97a179a24be5c3a72a1', 'tUUweXKAtjnJmmYhtbkKk66Emp9yiam3Naohqf1Uh94'],
      [chatCtx({ text: 'emoji \ud83d\ude00 and lone \ud800 surrogate', caller: { virtualKeyId: 'vk2', teamId: 't' }, model: 'm2' }), '38a56405b6adc3523b0f4f9d304dd09a', 'L4crxBe6tMfSpFUGrSxyHn7p8u43k9gPKj_ZeDY0tEA'],
      [{ ...chatCtx(), op: 'completion', body: { model: 'x', prompt: ['a', 'b'], max_tokens: 3 } }, 'ac02c4c44c5604c6fade0e8ba85d2d03', 'NYNCy6PtQvMwkie5TFgFltHJRo1ayNGnQK52_xxL2sA'],
      [{ ...chatCtx(), op: 'completion', body: { model: 'x', prompt: 'hello  world' } }, 'ff0fe416e38d30b81a8f4e3129603a4f', 'sxvFunvBa13fdjQv3_SVbZv1x9BuLm1O9NWY_5DJRwY'],
      [{ ...chatCtx(), op: 'embedding', body: { model: 'x', input: ['a', { z: 1 }] } }, '486e614a056d163296f86a323fc6561b', '2t0Wzn9SvhRpqOHzabDRd3fHESTqFI8nrvii2QZlX7s'],
    ];
    for (const [ctx, partition, exact] of cases) {
      const k = keyed(ctx);
      assert.equal(k.partition, partition);
      assert.equal(k.exact, exact);
    }
  });

  it('a text longer than MAX_SEMANTIC_TEXT is cached by exact repeat only: the guard never reads it whole', () => {
    const at = key(chatCtx({ text: 'a'.repeat(MAX_SEMANTIC_TEXT) }));
    assert.equal(at.text?.length, MAX_SEMANTIC_TEXT);
    const long = key(chatCtx({ text: 'a'.repeat(1_000_000) }));
    assert.equal(long.text, undefined);
    assert.notEqual(long.exact, key(chatCtx({ text: 'a'.repeat(999_999) })).exact, 'the exact key still covers the whole text');
    assert.equal(long.exact, key(chatCtx({ text: 'a'.repeat(1_000_000) })).exact);
  });

  it('writes an array of numbers as it writes each number: the keys depend on it', () => {
    // The canonical form element by element, as it was first written.
    const reference = (v: unknown): string => Array.isArray(v) ? `[${v.map(reference).join('')}]`
      : typeof v === 'number' ? `d${JSON.stringify(v)};` : canonical(v);
    const number = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(-0, 1e21, 1e-7, 2 ** 53));
    fc.assert(fc.property(fc.array(fc.oneof(number, fc.array(number), fc.string()), { maxLength: 20 }), (v) => {
      const parsed: unknown = JSON.parse(JSON.stringify(v));
      assert.equal(canonical(parsed), reference(parsed));
    }), { numRuns: 2000 });
    // Long lists are written through their JSON text.
    fc.assert(fc.property(fc.array(number, { minLength: 4096, maxLength: 6000 }), (v) => {
      const parsed: unknown = JSON.parse(JSON.stringify(v));
      assert.equal(canonical(parsed), reference(parsed));
    }), { numRuns: 60 });
  });

  it('normalises a text exactly as the five replacements by pattern it replaces: the keys depend on it', () => {
    // The blanks that end a line matched from the first of their run only (a run inside a line was otherwise read once
    // per character).
    const reference = (s: string): string => s.trim().replace(/\r\n?/g, '\n').replace(/(?<![ \t])[ \t]+$/gm, '')
      .replace(/(\S)(?: [ \t]+|\t[ \t]*)/g, '$1 ').replace(/\n{3,}/g, '\n\n');
    const rng = seededRandom(20_251_205);
    const chars = [' ', ' ', '\t', '\r', '\n', '\r\n', 'a', 'x', '.', '\u00a0', '\u2028', '\u2029', '\v', '\f', '\ufeff', '\u3000', '\u180e', '\ud800', '\u{1F600}', '\u00e9'];
    const blanks = [' ', '\t', '\r', '\n', ' \t', '\r\n', '  '];
    const pick = (set: readonly string[]): string => set[Math.floor(rng() * set.length)]!;
    let changed = 0;
    for (let k = 0; k < 20_000; k++) {
      const pool = rng() < 0.5 ? chars : blanks;
      let s = '';
      for (let n = Math.floor(rng() * (rng() < 0.8 ? 14 : 60)); n > 0; n--) s += pick(rng() < 0.7 ? pool : chars);
      const want = reference(s);
      assert.equal(normaliseText(s), want, JSON.stringify(s));
      if (want !== s) changed++;
    }
    assert.ok(changed > 15_000, `${changed} texts changed`);
    // Long stretches between the runs (copied whole, not a character at a time), of one-byte and wider characters.
    const letters = ['a', 'x', '.', '\u00e9', '\u00a0', '\ud800', '\u{1F600}', '\u4e16'];
    for (let k = 0; k < 2_000; k++) {
      const wide = rng() < 0.5;
      let s = '';
      for (let n = 1 + Math.floor(rng() * 6); n > 0; n--) {
        for (let m = Math.floor(rng() * 160); m > 0; m--) s += pick(wide ? letters : letters.slice(0, 5));
        s += pick(blanks) + (rng() < 0.5 ? pick(blanks) : '');
      }
      assert.equal(normaliseText(s), reference(s), JSON.stringify(s));
    }
    const run = ' \t'.repeat(25_000);
    assert.equal(normaliseText(`a${run}b  \nc`), 'a b\nc');
    assert.equal(normaliseText('x \t \n\t y\t\n\n\n\nz  '), 'x\n\t y\n\nz');
    assert.equal(normaliseText(`a${'\r'.repeat(100_000)}b\r\n\r c \u2028d`), 'a\n\nb\n\n c\u2028d');
  });

  it('ignores key order, number formatting, whitespace and answer-neutral fields', () => {
    const a = key(chatCtx({ text: 'What is  the capital\tof France? ', body: { temperature: 0.5, top_p: 1, stop: ['x'] } }));
    const b = key(chatCtx({ text: 'What is the capital of France?', body: { stop: ['x'], top_p: 1.0, temperature: 0.50, user: 'u-9', stream: true, stream_options: { include_usage: true }, metadata: { a: 1 } } }));
    assert.equal(a.exact, b.exact);
    assert.equal(a.partition, b.partition);
    assert.equal(a.text, 'What is the capital of France?');
    assert.match(a.exact, /^[A-Za-z0-9_-]{43}$/);
  });

  it('isolates partitions by tenant, model, system prompt and sampling parameters', () => {
    const base = key(chatCtx());
    const variants = [
      chatCtx({ caller: { virtualKeyId: 'vk2' } }),
      chatCtx({ model: 'other-model' }),
      chatCtx({ system: 'Answer in French.' }),
      chatCtx({ body: { temperature: 0.2 } }),
      chatCtx({ body: { max_tokens: 5 } }),
      chatCtx({ body: { seed: 3 } }),
      chatCtx({ body: { tools: [{ type: 'function', function: { name: 'f' } }] } }),
      chatCtx({ body: { response_format: { type: 'json_object' } } }),
    ];
    const partitions = new Set([base.partition, ...variants.map((c) => key(c).partition)]);
    assert.equal(partitions.size, variants.length + 1);
  });

  it('scopes by team or customer when configured, never by header', () => {
    const teamCfg = { ...cfg, partition_by: 'team' as const };
    const a = requestKey(chatCtx({ caller: { virtualKeyId: 'k1', teamId: 't1' }, headers: { 'x-tenant': 'evil' } }), teamCfg) as RequestKey;
    const b = requestKey(chatCtx({ caller: { virtualKeyId: 'k2', teamId: 't1' } }), teamCfg) as RequestKey;
    const c = requestKey(chatCtx({ caller: { virtualKeyId: 'k3', teamId: '' } }), teamCfg) as RequestKey;
    assert.equal(a.partition, b.partition);
    assert.equal(a.tenant, 'team:t1');
    assert.equal(c.tenant, 'vk:k3');
  });

  it('earlier turns belong to the partition, the trailing user turn is the text', () => {
    const history = [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }];
    const a = key(chatCtx({ body: { messages: [...history, { role: 'user', content: 'Q' }] } }));
    const b = key(chatCtx({ body: { messages: [{ role: 'user', content: 'Q' }] } }));
    assert.notEqual(a.partition, b.partition);
    assert.equal(a.text, 'Q');
  });

  it('skips what must not be cached, with a reason', () => {
    const reason = (ctx: ReturnType<typeof chatCtx>) => (requestKey(ctx, cfg) as { skip?: string }).skip;
    assert.equal(reason(chatCtx({ body: { n: 2 } })), 'n_gt_1');
    assert.equal(reason(chatCtx({ body: { temperature: 1.5 } })), 'temperature');
    assert.equal(reason(chatCtx({ body: { messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: null, tool_calls: [] }, { role: 'tool', content: '42', tool_call_id: 'a' }] } })), 'tool_result');
    assert.equal(reason(chatCtx({ body: { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] } })), 'no_text');
    const emb = { ...chatCtx(), op: 'embedding' as const, body: { model: 'e', input: 'hello' } };
    assert.equal((requestKey(emb, { ...cfg, embeddings: false }) as { skip?: string }).skip, 'embeddings');
    const ek = requestKey(emb, cfg) as RequestKey;
    assert.equal(ek.text, undefined);
  });
});
