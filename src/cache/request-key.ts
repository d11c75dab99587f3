/**
 * What a request is, as far as the cache is concerned: its tenant scope, its partition (everything that changes the answer
 * except the text that is embedded), its exact key, and the text to embed — or the reason it is not cached at all.
 * Hashing is canonical: object keys in sorted order, numbers as JSON writes them, text whitespace-normalised, and fields that
 * do not change the answer (stream, stream_options, user, metadata, request ids, ...) left out, so identical requests always
 * produce the same key. Each key is one canonical text hashed in one call (a digest fed piece by piece crossed into the
 * hash binding once per piece: dozens of calls per request); the text is the pieces in the order they were once fed, so
 * keys — those a Redis store kept across an upgrade included — are the same.
 */
import { createHash, hash } from 'node:crypto';
import type { Caller, RequestContext } from '../pipeline/context.js';
import type { CacheConfig } from './config.js';

export type SkipReason =
  | 'disabled' | 'policy' | 'n_gt_1' | 'temperature' | 'tool_result' | 'embeddings' | 'no_text' | 'unsupported'
  /** The lookup (embedding, search or the store's read) did not finish within the request's semantic budget. */
  | 'overload';

/** Fields that never change the answer. */
const IGNORED = new Set([
  'model', 'messages', 'prompt', 'input', 'stream', 'stream_options', 'user', 'metadata', 'store', 'service_tier',
  'safety_identifier', 'prompt_cache_key', 'request_id', 'x_request_id',
]);

export interface RequestKey {
  /** Tenant scope the partition belongs to ("vk:<id>", "team:<id>", "customer:<id>" or "global"). */
  readonly tenant: string;
  /** Partition id: tenant scope + model + hash of the request context. Opaque, 32 hex characters. */
  readonly partition: string;
  /**
   * Exact key: partition + normalised text. 43 base64url characters (SHA-256): every entry keeps one, and 64 hex
   * characters would cost 2 MB more at 100k entries.
   */
  readonly exact: string;
  /** Normalised text to embed for the semantic layer; undefined when only exact repeats may hit (embeddings, token prompts). */
  readonly text: string | undefined;
}

export type KeyResult = { readonly skip: SkipReason } | RequestKey;

/**
 * Texts longer than this (normalised characters) are cached by exact repeat only. The false-hit guard reads the whole of
 * both texts of every candidate it checks, so a semantic lookup of a megabyte question against stored ones of that size
 * held the event loop for more than a second; the embedding reads only its first `max_input_chars` anyway.
 */
export const MAX_SEMANTIC_TEXT = 32_768;

export const isSkip = (r: KeyResult): r is { readonly skip: SkipReason } => 'skip' in r;

const TAB = 9;
const LINE_FEED = 10;
const CARRIAGE_RETURN = 13;
const SPACE = 32;

const WHITE_SPACE = /\s/;
/** White space as a regular expression's `\s` reads it (read once per run, not per character; NaN before the text: no). */
const isSpace = (c: number): boolean => c === c && WHITE_SPACE.test(String.fromCharCode(c));

/**
 * Where a run that may change starts: a tab or line break, or a space before another blank or a line separator (a single
 * space between words, the common case, stays as it is). Every match is that one character, so it ends at `lastIndex`;
 * `test` makes no match object (under load, one per line of a long text was garbage enough to double the scan's time).
 */
const RUN_START = /[\t\n\r]| (?=[ \t\n\r\u2028\u2029])/g;
/** The line separators other than `\n` and `\r`: spaces and tabs before them end a line too. */
const isOtherLineEnd = (c: number): boolean => c === 0x2028 || c === 0x2029;

/** Any UTF-16 code unit above 255: a text without one is written out one byte per character. */
const WIDE = /[\u0100-\uffff]/;
/** Stretches at least this long are copied by the runtime (one call); shorter ones a character at a time. */
const NATIVE_COPY = 48;

/** The normalised text, written as code units (never longer than the trimmed text), one byte each when the text allows. */
class Output {
  private readonly units: Uint8Array | Uint16Array;
  /** The same memory, for the runtime's copies. */
  private readonly bytes: Buffer;
  private readonly encoding: 'latin1' | 'utf16le';
  private length = 0;
  constructor(private readonly text: string) {
    const wide = WIDE.test(text);
    this.units = wide ? new Uint16Array(text.length) : new Uint8Array(text.length);
    this.bytes = Buffer.from(this.units.buffer, 0, this.units.byteLength);
    this.encoding = wide ? 'utf16le' : 'latin1';
  }
  copy(from: number, to: number): void {
    if (to - from >= NATIVE_COPY) {
      // Code units as they are (a lone surrogate stays one).
      this.length += this.bytes.write(this.text.slice(from, to), this.length * this.units.BYTES_PER_ELEMENT, this.encoding) / this.units.BYTES_PER_ELEMENT;
      return;
    }
    const { text, units } = this;
    let n = this.length;
    for (let i = from; i < to; i++) units[n++] = text.charCodeAt(i);
    this.length = n;
  }
  push(c: number): void {
    this.units[this.length++] = c;
  }
  toString(): string {
    return this.bytes.toString(this.encoding, 0, this.length * this.units.BYTES_PER_ELEMENT);
  }
}

/**
 * Trims, unifies line ends, drops trailing spaces and collapses runs of inner spaces; leading indentation is kept. Each
 * run of spaces, tabs and line breaks is read once and rewritten whole: every `\r\n` or lone `\r` is a line break;
 * spaces and tabs that end a line are dropped; three or more line breaks become two; the spaces and tabs after the last
 * break are indentation, kept; a run with no break, after a character that is not white space, becomes one space
 * unless it is a single space. As five replacements by pattern, a text of many short runs cost one match each (about
 * 200 ns): 4 MB of `\r` took 0.7-1.1 s, of `\r ` 1 s or more. The output is that of the patterns for every text (the
 * cache keys kept in a store depend on it).
 */
export function normaliseText(s: string): string {
  const t = s.trim();
  const n = t.length;
  let out: Output | undefined;
  let copied = 0;
  // The regular expression finds where the next run may start (natively: 4 MB of prose in 2-3 ms, against 16 ms for a
  // loop reading each character); the run itself is then read here.
  for (let i = 0; i < n; i++) {
    RUN_START.lastIndex = i;
    if (!RUN_START.test(t)) break;
    i = RUN_START.lastIndex - 1;
    let c = t.charCodeAt(i);
    // The run (never at either end of the trimmed text): its line breaks (`\r\n` counts once), whether any is a `\r`,
    // and where its last line begins.
    const start = i;
    let breaks = 0;
    let lastLine = i;
    let cr = false;
    for (; i < n; c = t.charCodeAt(++i)) {
      if (c === CARRIAGE_RETURN) {
        cr = true;
        if (t.charCodeAt(i + 1) === LINE_FEED) i++;
      } else if (c !== LINE_FEED) {
        if (c === SPACE || c === TAB) continue;
        break;
      }
      breaks++;
      lastLine = i + 1;
    }
    const lineEnds = isOtherLineEnd(t.charCodeAt(i));
    if (breaks === 0) {
      const collapse = !isSpace(t.charCodeAt(start - 1)) && (i - start >= 2 || t.charCodeAt(start) === TAB);
      if (!lineEnds && !collapse) continue;
      out ??= new Output(t);
      out.copy(copied, start);
      if (!lineEnds) out.push(SPACE);
      copied = i;
    } else {
      const same = !cr && breaks <= 2 && lastLine - start === breaks && (!lineEnds || lastLine === i);
      if (same) continue;
      out ??= new Output(t);
      out.copy(copied, start);
      out.push(LINE_FEED);
      if (breaks > 1) out.push(LINE_FEED);
      copied = lineEnds ? i : lastLine;
    }
  }
  if (out === undefined) return t;
  out.copy(copied, n);
  return out.toString();
}

/**
 * Whether every element is a finite number: such an array (token ids, a caller's list of numbers) is written whole
 * (`numberList`), the same text as element by element, where two million numbers one at a time took 0.6-0.7 s.
 */
function finiteNumbers(v: readonly unknown[]): v is readonly number[] {
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'number' || !Number.isFinite(v[i])) return false;
  return true;
}

/** Arrays of at least this many numbers are written through their JSON text (see `numberList`). */
const LONG_LIST = 4096;
const COMMA = 0x2c;

/**
 * `[d1;d2.5;]`: each finite number as JSON (and `String`) writes it. A short list is joined; a long one is written as JSON
 * by the runtime (half a million one-digit numbers in about 2 ms, where their join took 50-75 ms, a number at a time)
 * and its commas become `;d` in one pass over its characters (ASCII: digits, signs, `.` and `e`).
 */
function numberList(v: readonly number[]): string {
  if (v.length < LONG_LIST) return `[d${v.join(';d')};]`;
  const json = JSON.stringify(v);
  const out = Buffer.allocUnsafe(2 * json.length + 2);
  out.write('[d', 0, 'latin1');
  let at = 2;
  for (let i = 1; i < json.length - 1; i++) {
    const c = json.charCodeAt(i);
    if (c === COMMA) {
      out[at++] = 0x3b; // ;
      out[at++] = 0x64; // d
    } else out[at++] = c;
  }
  out.write(';]', at, 'latin1');
  return out.toString('latin1', 0, at + 2);
}

/** A JSON value's canonical text: sorted keys, tagged types, normalised strings. */
export function canonical(v: unknown): string {
  if (v === null || v === undefined) return 'n';
  switch (typeof v) {
    case 'string': return `s${v.length}:${normaliseText(v)}`;
    case 'number': return `d${JSON.stringify(v)};`;
    case 'boolean': return v ? 't' : 'f';
    case 'object': {
      let out: string;
      if (Array.isArray(v)) {
        if (v.length > 0 && finiteNumbers(v)) return numberList(v);
        out = '[';
        for (const x of v) out += canonical(x);
        return `${out}]`;
      }
      const o = v as Record<string, unknown>;
      out = '{';
      for (const k of Object.keys(o).sort()) {
        if (o[k] !== undefined) out += `${k}=${canonical(o[k])}`;
      }
      return `${out}}`;
    }
    default: return '?';
  }
}

export function tenantScope(caller: Caller, by: CacheConfig['partition_by']): string {
  if (by === 'global') return 'global';
  if (by === 'team' && caller.teamId !== '') return `team:${caller.teamId}`;
  if (by === 'customer' && caller.customerId !== '') return `customer:${caller.customerId}`;
  return `vk:${caller.virtualKeyId}`;
}

type Message = Record<string, unknown> & { role?: unknown; content?: unknown };

/**
 * Appends the texts of a message's content to `out`: the content itself when a string, else its text parts. Every piece
 * goes to the one list, joined once: a message of many parts joined first, then joined again with the others, was a chain
 * of concatenations the final join walked piece by piece (4 MB in 1,000-part messages: 17 ms against 3).
 */
function pushText(content: unknown, out: string[]): void {
  if (typeof content === 'string') {
    out.push(content);
    return;
  }
  if (!Array.isArray(content)) return;
  for (const p of content) {
    if (p && typeof p === 'object' && (p as { type?: unknown }).type === 'text' && typeof (p as { text?: unknown }).text === 'string') {
      out.push((p as { text: string }).text);
    }
  }
}

/** Texts at least this long are hashed apart from their prefix (see `digest`). */
const LONG_TEXT = 4096;

/**
 * SHA-256 of `prefix` and `text` (base64url). A long text is fed apart from its prefix: the two joined make a string the
 * hash reads by walking the join (4 MB: 15-35 ms against 3); a short one is cheaper joined, in one call.
 */
function digest(prefix: string, text: string): string {
  if (text.length < LONG_TEXT) return hash('sha256', prefix + text, 'base64url');
  return createHash('sha256').update(prefix).update(text).digest('base64url');
}

/** The parts of a trailing user message that are not embedded (images, audio, name), hashed into the partition. */
function nonText(m: Message): unknown {
  const rest: Record<string, unknown> = { ...m, content: Array.isArray(m.content) ? m.content.filter((p) => (p as { type?: unknown })?.type !== 'text') : null };
  return rest;
}

/**
 * Splits a request into partition and embedded text, or says why it is not cached. Body-level skip rules (n, temperature,
 * tool results, embeddings) live here; policy and header controls are applied by the caller.
 */
export function requestKey(ctx: Pick<RequestContext, 'op' | 'body' | 'model' | 'caller' | 'native'>, cfg: CacheConfig): KeyResult {
  const body = ctx.body;
  if (typeof body.n === 'number' && body.n > 1) return { skip: 'n_gt_1' };
  if (typeof body.temperature === 'number' && body.temperature > cfg.max_temperature) return { skip: 'temperature' };
  const tenant = tenantScope(ctx.caller, cfg.partition_by);
  let p = `${tenant}\0${ctx.model}\0${ctx.op}\0`;
  for (const k of Object.keys(body).sort()) {
    if (IGNORED.has(k) || body[k] === undefined) continue;
    p += `${k}=${canonical(body[k])}`;
  }
  // Fields only the caller's native request carries (see src/llm/protocol.ts) change the answer too.
  const extras = ctx.native?.extras;
  if (extras !== undefined && Object.keys(extras).length > 0) {
    p += `\0native=${canonical(extras)}`;
  }
  let text: string | undefined;
  let exactPayload: unknown;
  if (ctx.op === 'chat') {
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) return { skip: 'no_text' };
    let first = messages.length;
    while (first > 0 && (messages[first - 1] as Message)?.role === 'user') first--;
    if (first === messages.length) {
      return (messages[messages.length - 1] as Message)?.role === 'tool' ? { skip: 'tool_result' } : { skip: 'no_text' };
    }
    p += 'messages=';
    for (let i = 0; i < first; i++) p += canonical(messages[i]);
    p += '|';
    const parts: string[] = [];
    for (let i = first; i < messages.length; i++) {
      const m = messages[i] as Message;
      pushText(m.content, parts);
      if (typeof m.content !== 'string') p += canonical(nonText(m));
      else if (m.name !== undefined) p += canonical(m.name);
    }
    if (parts.length === 0) return { skip: 'no_text' };
    text = normaliseText(parts.join('\n'));
    if (text === '') return { skip: 'no_text' };
  } else if (ctx.op === 'completion') {
    const p = body.prompt;
    const single = typeof p === 'string' ? p : Array.isArray(p) && p.length === 1 && typeof p[0] === 'string' ? p[0] : undefined;
    if (single !== undefined) {
      text = normaliseText(single);
      if (text === '') return { skip: 'no_text' };
    } else if (p === undefined || p === null) return { skip: 'no_text' };
    else exactPayload = p;
  } else if (ctx.op === 'embedding') {
    if (!cfg.embeddings) return { skip: 'embeddings' };
    if (body.input === undefined) return { skip: 'no_text' };
    exactPayload = body.input;
  } else {
    return { skip: 'unsupported' };
  }
  const partition = hash('sha256', p, 'hex').slice(0, 32);
  const exact = digest(`${partition}\0`, text ?? canonical(exactPayload));
  const semantic = ctx.op !== 'embedding' && text !== undefined && text.length <= MAX_SEMANTIC_TEXT;
  return { tenant, partition, exact, text: semantic ? text : undefined };
}
