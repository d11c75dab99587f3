/**
 * Restoring redacted values in the reply on its way back: JSON replies (message content, completion text, tool-call
 * arguments) and streamed replies (content and text deltas, with split placeholders held back briefly). A changed part
 * loses its upstream `raw` text so the edge serialises the restored one.
 */
import type { Chunk, JsonReply, ProviderReply, StreamPart, StreamReply } from '../providers/types.js';
import { restoreText, StreamRestorer } from './redact.js';

const jsonEscape = (s: string): string => JSON.stringify(s).slice(1, -1);

type Choice = Record<string, unknown>;

function restoreToolCalls(calls: unknown, originals: ReadonlyMap<string, string>): unknown {
  if (!Array.isArray(calls)) return calls;
  return calls.map((c: Record<string, unknown>) => {
    const fn = c?.['function'] as Record<string, unknown> | undefined;
    if (!fn || typeof fn['arguments'] !== 'string') return c;
    return { ...c, function: { ...fn, arguments: restoreText(fn['arguments'], originals, jsonEscape) } };
  });
}

function restoreChoice(choice: Choice, originals: ReadonlyMap<string, string>): Choice {
  const out: Choice = { ...choice };
  if (typeof out['text'] === 'string') out['text'] = restoreText(out['text'], originals);
  const msg = out['message'] as Record<string, unknown> | undefined;
  if (msg && typeof msg === 'object') {
    const m: Record<string, unknown> = { ...msg };
    if (typeof m['content'] === 'string') m['content'] = restoreText(m['content'], originals);
    if (m['tool_calls']) m['tool_calls'] = restoreToolCalls(m['tool_calls'], originals);
    out['message'] = m;
  }
  return out;
}

export function restoreJson(reply: JsonReply, originals: ReadonlyMap<string, string>): JsonReply {
  const choices = reply.body['choices'];
  if (!Array.isArray(choices)) return reply;
  const body = { ...reply.body, choices: choices.map((c: Choice) => restoreChoice(c, originals)) };
  const { raw: _raw, native: _native, ...rest } = reply;
  return { ...rest, body };
}

async function* restoreParts(parts: AsyncIterable<StreamPart>, originals: ReadonlyMap<string, string>): AsyncGenerator<StreamPart> {
  const restorers = new Map<number, StreamRestorer>();
  const restorerOf = (i: number): StreamRestorer => {
    let r = restorers.get(i);
    if (!r) restorers.set(i, (r = new StreamRestorer(originals)));
    return r;
  };
  let last: Chunk | undefined;
  for await (const part of parts) {
    if (part.type !== 'chunk') {
      // Anything still held (a stream that ended without a finish reason) goes out before the end.
      const pending = [...restorers].filter(([, r]) => r.pending);
      if (pending.length > 0 && last) {
        const choices = pending.map(([index, r]) => {
          const text = r.flush();
          return 'text' in (last!.choices?.[0] ?? {}) ? { index, text, finish_reason: null } : { index, delta: { content: text }, finish_reason: null };
        });
        yield { type: 'chunk', chunk: { ...last, choices, usage: undefined } as Chunk };
      }
      yield part;
      continue;
    }
    const chunk = part.chunk;
    last = chunk;
    const choices = chunk.choices;
    if (!Array.isArray(choices) || choices.length === 0) {
      yield part;
      continue;
    }
    let changed = false;
    const next = choices.map((c) => {
      const index = c.index ?? 0;
      const delta = c.delta as Record<string, unknown> | undefined;
      const isText = typeof c.text === 'string';
      const current = isText ? c.text! : typeof delta?.['content'] === 'string' ? (delta['content'] as string) : undefined;
      if (current === undefined && !c.finish_reason) return c;
      const r = restorerOf(index);
      let text = current === undefined ? '' : r.push(current);
      if (c.finish_reason) text += r.flush();
      if (text === (current ?? '')) return c;
      changed = true;
      return isText ? { ...c, text } : { ...c, delta: { ...delta, content: text } };
    });
    yield changed ? { type: 'chunk', chunk: { ...chunk, choices: next } } : part;
  }
}

export function restoreStream(reply: StreamReply, originals: ReadonlyMap<string, string>): StreamReply {
  return { ...reply, parts: restoreParts(reply.parts, originals) };
}

export function restoreReply(reply: ProviderReply, originals: ReadonlyMap<string, string>): ProviderReply {
  return reply.kind === 'json' ? restoreJson(reply, originals) : restoreStream(reply, originals);
}
