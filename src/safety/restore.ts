/**
 * Restoring redacted values in the reply on its way back: JSON replies (message content, completion text, tool-call
 * arguments) and streamed replies (text and tool-call argument deltas, with split placeholders held back briefly). A changed part loses its
 * upstream `raw` text so the edge serialises the restored one.
 */
import { changed } from '../llm/parts.js';
import type { JsonReply, ProviderReply, StreamPart, StreamReply } from '../providers/types.js';
import { restoreText, StreamRestorer, type PlaceholderValues } from './redact.js';

const jsonEscape = (s: string): string => JSON.stringify(s).slice(1, -1);

type Choice = Record<string, unknown>;

function restoreToolCalls(calls: unknown, originals: PlaceholderValues): unknown {
  if (!Array.isArray(calls)) return calls;
  return calls.map((c: Record<string, unknown>) => {
    const fn = c?.['function'] as Record<string, unknown> | undefined;
    if (!fn || typeof fn['arguments'] !== 'string') return c;
    return { ...c, function: { ...fn, arguments: restoreText(fn['arguments'], originals, jsonEscape) } };
  });
}

function restoreChoice(choice: Choice, originals: PlaceholderValues): Choice {
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

export function restoreJson(reply: JsonReply, originals: PlaceholderValues): JsonReply {
  const choices = reply.body['choices'];
  if (!Array.isArray(choices)) return reply;
  const body = { ...reply.body, choices: choices.map((c: Choice) => restoreChoice(c, originals)) };
  const { raw: _raw, native: _native, ...rest } = reply;
  return { ...rest, body };
}

async function* restoreParts(parts: AsyncIterable<StreamPart>, originals: PlaceholderValues): AsyncGenerator<StreamPart> {
  // One restorer per choice's text and per tool call's arguments ("choice:index"), each holding back a split placeholder.
  const texts = new Map<number, StreamRestorer>();
  const calls = new Map<string, StreamRestorer>();
  const held = (r: StreamRestorer | undefined): r is StreamRestorer => r !== undefined && r.pending;
  for await (const part of parts) {
    if (part.type === 'text-delta') {
      let r = texts.get(part.choice);
      if (!r) texts.set(part.choice, (r = new StreamRestorer(originals)));
      const text = r.push(part.text);
      yield text === part.text ? part : { ...changed(part), text };
      continue;
    }
    if (part.type === 'tool-call-delta') {
      const id = `${part.choice}:${part.index}`;
      let r = calls.get(id);
      if (!r) calls.set(id, (r = new StreamRestorer(originals, jsonEscape)));
      const argsDelta = r.push(part.argsDelta);
      yield argsDelta === part.argsDelta ? part : { ...changed(part), argsDelta };
      continue;
    }
    if (part.type === 'tool-call-end') {
      // A call's held-back arguments go out before its end.
      const r = calls.get(`${part.choice}:${part.index}`);
      if (held(r)) yield { type: 'tool-call-delta', choice: part.choice, index: part.index, argsDelta: r.flush() };
    } else if (part.type === 'finish') {
      // A choice's held-back text goes out before its finish.
      const r = texts.get(part.choice);
      if (held(r)) yield { type: 'text-delta', choice: part.choice, text: r.flush() };
    } else if (part.type === 'done' || part.type === 'error') {
      // Anything still held (a stream that ended without a finish reason) goes out before the end.
      for (const [choice, r] of texts) if (r.pending) yield { type: 'text-delta', choice, text: r.flush() };
      for (const [id, r] of calls) {
        if (!r.pending) continue;
        const [choice, index] = id.split(':').map(Number) as [number, number];
        yield { type: 'tool-call-delta', choice, index, argsDelta: r.flush() };
      }
    }
    yield part;
  }
}

/**
 * The reply with its parts restored. Closing it closes the reply it wraps, also before its first part was read (a generator
 * closed then never runs its body, so it would never close its source): the upstream is freed and the observers of the
 * stream below (budget, ledger, cache) see it end.
 */
export function restoreStream(reply: StreamReply, originals: PlaceholderValues): StreamReply {
  const source = reply.parts[Symbol.asyncIterator]();
  const restored = restoreParts({ [Symbol.asyncIterator]: () => source }, originals);
  let started = false;
  const parts: AsyncIterableIterator<StreamPart> = {
    [Symbol.asyncIterator]() { return this; },
    next() {
      started = true;
      return restored.next();
    },
    async return(value?: unknown) {
      if (started) return restored.return(value as StreamPart);
      started = true;
      await restored.return(value as StreamPart);
      await source.return?.();
      return { done: true, value: value as StreamPart };
    },
  };
  return { ...reply, parts };
}

export function restoreReply(reply: ProviderReply, originals: PlaceholderValues): ProviderReply {
  return reply.kind === 'json' ? restoreJson(reply, originals) : restoreStream(reply, originals);
}
