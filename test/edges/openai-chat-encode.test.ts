/**
 * OpenAI upstream → typed parts → OpenAI edge. Unchanged parts are forwarded byte for byte; parts a stage changed (here: any
 * subset stripped of their upstream text) are serialised, and a client reads the same reply either way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { changed, type StreamPart } from '../../src/llm/parts.js';
import type { Chunk, ChunkChoice } from '../../src/providers/openai/openai-api.js';
import { openaiStreamParts } from '../../src/providers/openai/openai-stream.js';
import { parseSse } from '../../src/providers/sse.js';
import { chunksOf, sseOf } from '../helpers/stream-parts.js';

type Kind = 'chat' | 'completion';

/** What a client assembles from a stream: per choice its text, reasoning, refusal, tool calls, log-probabilities, finish. */
function assemble(chunks: readonly Chunk[]): unknown {
  const choices: Record<number, Record<string, unknown>> = {};
  let usage: unknown;
  const ids = new Set<string>();
  for (const c of chunks) {
    ids.add(JSON.stringify([c.id, c.model, c.created, c.system_fingerprint, c.object]));
    if (c.usage) usage = c.usage;
    for (const ch of c.choices ?? []) {
      const acc = (choices[ch.index ?? 0] ??= { text: '', reasoning: '', refusal: '', tools: [] as Array<Record<string, string>>, logprobs: [] as unknown[] });
      const d = ch.delta;
      if (typeof ch.text === 'string') acc.text += ch.text;
      if (d?.role !== undefined) acc.role ??= d.role;
      if (typeof d?.content === 'string') acc.text += d.content;
      if (typeof d?.reasoning_content === 'string') acc.reasoning += d.reasoning_content;
      if (typeof d?.refusal === 'string') acc.refusal += d.refusal;
      for (const t of d?.tool_calls ?? []) {
        const tools = acc.tools as Array<Record<string, string>>;
        const tc = (tools[t.index ?? 0] ??= { id: '', name: '', args: '' });
        if (t.id) tc.id = t.id;
        if (t.function?.name) tc.name += t.function.name;
        if (t.function?.arguments) tc.args += t.function.arguments;
      }
      const lp = (ch.logprobs as { content?: unknown[] } | null | undefined)?.content;
      if (Array.isArray(lp)) (acc.logprobs as unknown[]).push(...lp);
      if (ch.finish_reason) acc.finish = ch.finish_reason;
    }
  }
  return { ids: [...ids], choices, usage };
}

const word = fc.string({ minLength: 0, maxLength: 6 });

type Step =
  | { k: 'text'; s: string; lp: boolean }
  | { k: 'reasoning'; s: string }
  | { k: 'refusal'; s: string }
  | { k: 'tool'; name: string; args: string[] };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ k: fc.constant('text' as const), s: word, lp: fc.boolean() }),
  fc.record({ k: fc.constant('reasoning' as const), s: word }),
  fc.record({ k: fc.constant('refusal' as const), s: word }),
  fc.record({ k: fc.constant('tool' as const), name: fc.constantFrom('lookup', 'get_time'), args: fc.array(word, { maxLength: 3 }) }),
);

/** A well-formed OpenAI stream: role chunk per choice, interleaved deltas, a finish per choice, maybe a usage chunk. */
const upstream = fc.record({
  kind: fc.constantFrom<Kind>('chat', 'completion'),
  n: fc.integer({ min: 1, max: 2 }),
  steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), step), { maxLength: 12 }),
  usage: fc.boolean(),
  nullUsage: fc.boolean(),
  fingerprint: fc.boolean(),
  finish: fc.constantFrom('stop', 'length', 'tool_calls'),
}).map(({ kind, n, steps, usage, nullUsage, fingerprint, finish }) => {
  const head = {
    id: 'chatcmpl-p', object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', created: 1700000000, model: 'gpt-p',
    ...(fingerprint ? { system_fingerprint: 'fp_1' } : {}),
  };
  const chunks: Chunk[] = [];
  const push = (choices: ChunkChoice[], extra: Partial<Chunk> = {}): void => {
    chunks.push({ ...head, choices, ...(nullUsage && !('usage' in extra) ? { usage: null } : {}), ...extra });
  };
  const tools = [0, 0];
  for (let i = 0; i < n; i++) {
    push(kind === 'chat' ? [{ index: i, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] : [{ index: i, text: '', logprobs: null, finish_reason: null }]);
  }
  for (const [c, s] of steps) {
    const index = c % n;
    if (kind === 'completion') {
      if (s.k === 'text') push([{ index, text: s.s, logprobs: null, finish_reason: null }]);
      continue;
    }
    if (s.k === 'text') {
      const logprobs = s.lp ? { content: [{ token: s.s, logprob: -0.5, bytes: [], top_logprobs: [] }] } : null;
      push([{ index, delta: { content: s.s }, logprobs, finish_reason: null }]);
    } else if (s.k === 'reasoning') push([{ index, delta: { reasoning_content: s.s }, logprobs: null, finish_reason: null }]);
    else if (s.k === 'refusal') push([{ index, delta: { refusal: s.s }, logprobs: null, finish_reason: null }]);
    else {
      const ti = tools[index]++;
      push([{ index, delta: { tool_calls: [{ index: ti, id: `call_${index}_${ti}`, type: 'function', function: { name: s.name, arguments: '' } }] }, logprobs: null, finish_reason: null }]);
      for (const a of s.args) if (a !== '') push([{ index, delta: { tool_calls: [{ index: ti, function: { arguments: a } }] }, logprobs: null, finish_reason: null }]);
    }
  }
  for (let i = 0; i < n; i++) {
    push(kind === 'chat' ? [{ index: i, delta: {}, logprobs: null, finish_reason: finish }] : [{ index: i, text: '', logprobs: null, finish_reason: finish }]);
  }
  if (usage) push([], { usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } });
  const text = chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
  return { kind, chunks, text };
});

async function partsOf(text: string): Promise<StreamPart[]> {
  async function* body(): AsyncGenerator<string> {
    // Split mid-event, as a network would.
    for (let i = 0; i < text.length; i += 37) yield text.slice(i, i + 37);
  }
  const parts: StreamPart[] = [];
  for await (const p of openaiStreamParts(parseSse(body()), false, (s) => s)) parts.push(p);
  return parts;
}

describe('OpenAI edge encoding', () => {
  it('forwards an unchanged OpenAI stream byte for byte', async () => {
    await fc.assert(fc.asyncProperty(upstream, async ({ kind, text }) => {
      const parts = await partsOf(text);
      assert.equal(sseOf(parts, kind), text);
    }), { numRuns: 150 });
  });

  it('serialises changed parts into chunks a client reads as the same reply', async () => {
    await fc.assert(fc.asyncProperty(upstream, fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), async ({ kind, chunks, text }, strip) => {
      const parts = (await partsOf(text)).map((p, i) => (strip[i % 64] ? changed(p) : p));
      const out = sseOf(parts, kind);
      assert.ok(out.endsWith('data: [DONE]\n\n'));
      assert.deepEqual(assemble(chunksOf(parts, kind)), assemble(chunks));
      const all = (await partsOf(text)).map((p) => changed(p));
      assert.deepEqual(assemble(chunksOf(all, kind)), assemble(chunks));
    }), { numRuns: 150 });
  });

  it('writes an error event, never [DONE], for a stream that broke', () => {
    const out = sseOf([
      { type: 'metadata', id: 'x', model: 'm', created: 1 },
      { type: 'text-delta', choice: 0, text: 'hi' },
      { type: 'error', failure: { message: 'cut', type: 'upstream_error', code: 'upstream_stream_interrupted', class: 'upstream' } },
    ]);
    assert.ok(!out.includes('[DONE]'));
    // The envelope's own fields: the gateway's reading of the failure (its class) stays inside.
    assert.match(out, /data: \{"error":\{"message":"cut","type":"upstream_error","code":"upstream_stream_interrupted"\}\}\n\n$/);
  });

  it('does not send usage the gateway asked for on its own', async () => {
    const text = `data: ${JSON.stringify({ id: 'a', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'x' }, finish_reason: 'stop' }] })}\n\n`
      + `data: ${JSON.stringify({ id: 'a', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })}\n\n`
      + 'data: [DONE]\n\n';
    const parts: StreamPart[] = [];
    async function* body(): AsyncGenerator<string> { yield text; }
    for await (const p of openaiStreamParts(parseSse(body()), true, (s) => s)) parts.push(p);
    assert.ok(parts.some((p) => p.type === 'usage' && p.hidden === true));
    assert.equal(sseOf(parts), text.split('\n\n')[0] + '\n\ndata: [DONE]\n\n');
  });

  it('ends the stream with an error part when the upstream names a choice or tool call no reply could hold', async () => {
    const chunk = (choice: Record<string, unknown>): string => `data: ${JSON.stringify({ id: 'a', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [choice] })}\n\n`;
    const cases = [
      { index: 0, delta: { tool_calls: [{ index: 50_000_000, id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] } },
      { index: 0, delta: { tool_calls: [{ index: -1, id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] } },
      { index: 0, delta: { tool_calls: [{ index: 0.5, id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] } },
      { index: 1e9, delta: { content: 'x' } },
      { index: 2.5, delta: { content: 'x' } },
    ];
    for (const bad of cases) {
      const parts = await partsOf(chunk({ index: 0, delta: { content: 'ok' } }) + chunk({ ...bad, finish_reason: 'tool_calls' }) + 'data: [DONE]\n\n');
      const last = parts[parts.length - 1]!;
      assert.equal(last.type, 'error', JSON.stringify(bad));
      assert.equal(last.type === 'error' && last.failure.code, 'upstream_bad_chunk');
      assert.ok(parts.every((p) => !('index' in p) || (p.index >= 0 && p.index < 1024)), 'no part carries the bad index');
    }
    // Several choices, each with its own tool calls, stay as they are.
    const ok = await partsOf(chunk({ index: 3, delta: { tool_calls: [{ index: 2, id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'tool_calls' }) + 'data: [DONE]\n\n');
    assert.deepEqual(ok.filter((p) => p.type === 'tool-call-start').map((p) => p.type === 'tool-call-start' && [p.choice, p.index]), [[3, 2]]);
    assert.equal(ok[ok.length - 1]!.type, 'done');
  });
});
