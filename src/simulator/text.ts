/**
 * Deterministic text helpers for the simulator: echoes, word-count usage, token-like pieces, ids and hash-derived numbers.
 */
import { createHash } from 'node:crypto';

/** The text of an OpenAI or Anthropic message content: a string, or the text parts of an array joined by a space. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content) {
    if (part === null || typeof part !== 'object') continue;
    const p = part as { type?: unknown; text?: unknown; content?: unknown };
    if (typeof p.text === 'string') texts.push(p.text);
    else if (p.type === 'tool_result') texts.push(contentText(p.content));
  }
  return texts.join(' ');
}

/** Word count: the simulator's token count. */
export function wordCount(text: string): number {
  let n = 0;
  for (const _ of text.matchAll(/\S+/g)) n++;
  return n;
}

/**
 * Token-like pieces whose concatenation is the text (less any trailing blank space): the first word, then each following
 * word with its leading space. The trailing space is cut first: without a word after it, the pattern would retry the rest of
 * the run from each of its characters (time quadratic in its length).
 */
export function pieces(text: string): string[] {
  const out = text.trimEnd().match(/\s*\S+/g) ?? [];
  return out.length > 0 ? out : [text];
}

/** Applies stop sequences and a token limit to a reply text; says why it ended. */
export function limitText(
  text: string,
  stop: unknown,
  maxTokens: unknown,
): { text: string; reason: 'stop' | 'stop_sequence' | 'length'; stopSequence: string | null } {
  const stops = typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((s): s is string => typeof s === 'string' && s !== '') : [];
  let out = text;
  let reason: 'stop' | 'stop_sequence' | 'length' = 'stop';
  let stopSequence: string | null = null;
  for (const s of stops) {
    const at = out.indexOf(s);
    if (at >= 0) {
      out = out.slice(0, at);
      reason = 'stop_sequence';
      stopSequence = s;
    }
  }
  if (typeof maxTokens === 'number' && maxTokens >= 0) {
    const p = pieces(out);
    if (p.length > maxTokens) {
      out = p.slice(0, maxTokens).join('');
      reason = 'length';
      stopSequence = null;
    }
  }
  return { text: out, reason, stopSequence };
}

export function sha256(input: string): Buffer {
  return createHash('sha256').update(input).digest();
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A realistic-looking id, deterministic in (seed, counter). */
export function makeId(prefix: string, seed: string, counter: number, length = 24): string {
  const bytes = sha256(`${prefix}:${seed}:${counter}`);
  let s = prefix;
  for (let i = 0; i < length; i++) s += ALPHABET[bytes[i % bytes.length] % ALPHABET.length];
  return s;
}

/** A deterministic log-probability in (-2, 0] for a token. */
export function logprobOf(token: string): number {
  return -(sha256(token).readUInt16BE(0) % 2000) / 1000;
}

/** A deterministic unit vector of `dims` dimensions derived from the hash of `input`. */
export function unitVector(input: string, dims: number): number[] {
  const v = new Array<number>(dims);
  let norm = 0;
  let block: Buffer = Buffer.alloc(0);
  for (let i = 0; i < dims; i++) {
    const offset = (i * 2) % 32;
    if (offset === 0) block = sha256(`${input}:${i}`);
    const x = block.readUInt16BE(offset) / 32767.5 - 1;
    v[i] = x;
    norm += x * x;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dims; i++) v[i] = norm > 0 ? v[i] * scale : i === 0 ? 1 : 0;
  return v;
}
