/**
 * What a request is, as far as the cache is concerned: its tenant scope, its partition (everything that changes the answer
 * except the text that is embedded), its exact key, and the text to embed — or the reason it is not cached at all.
 * Hashing is canonical: object keys in sorted order, numbers as JSON writes them, text whitespace-normalised, and fields that
 * do not change the answer (stream, stream_options, user, metadata, request ids, ...) left out, so identical requests always
 * produce the same key.
 */
import { createHash, type Hash } from 'node:crypto';
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

/**
 * Spaces and tabs that end a line, matched from the first of their run only: tried from each of its characters, a run
 * inside a line (not at its end) was read once per character (quadratic: 128 K spaces in a message took 22 s).
 */
export const TRAILING_BLANKS = /(?<![ \t])[ \t]+$/gm;

/**
 * Trims, unifies line ends, drops trailing spaces and collapses runs of inner spaces; leading indentation is kept. Only
 * runs that change are matched (a lone space is left alone), so ordinary prose costs one quick scan per pattern.
 */
export function normaliseText(s: string): string {
  return s.trim().replace(/\r\n?/g, '\n').replace(TRAILING_BLANKS, '').replace(/(\S)(?: [ \t]+|\t[ \t]*)/g, '$1 ').replace(/\n{3,}/g, '\n\n');
}

/** Feeds a JSON value into a hash canonically: sorted keys, tagged types, normalised strings. */
export function feedCanonical(h: Hash, v: unknown): void {
  if (v === null || v === undefined) { h.update('n'); return; }
  switch (typeof v) {
    case 'string': h.update('s'); h.update(String(v.length)); h.update(':'); h.update(normaliseText(v)); return;
    case 'number': h.update('d'); h.update(JSON.stringify(v)); h.update(';'); return;
    case 'boolean': h.update(v ? 't' : 'f'); return;
    case 'object': {
      if (Array.isArray(v)) {
        h.update('[');
        for (const x of v) feedCanonical(h, x);
        h.update(']');
        return;
      }
      const o = v as Record<string, unknown>;
      h.update('{');
      for (const k of Object.keys(o).sort()) {
        if (o[k] === undefined) continue;
        h.update(k); h.update('=');
        feedCanonical(h, o[k]);
      }
      h.update('}');
      return;
    }
    default: h.update('?');
  }
}

export function tenantScope(caller: Caller, by: CacheConfig['partition_by']): string {
  if (by === 'global') return 'global';
  if (by === 'team' && caller.teamId !== '') return `team:${caller.teamId}`;
  if (by === 'customer' && caller.customerId !== '') return `customer:${caller.customerId}`;
  return `vk:${caller.virtualKeyId}`;
}

type Message = Record<string, unknown> & { role?: unknown; content?: unknown };

/** The text parts of a message's content, or undefined when it has none. */
function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  let out: string | undefined;
  for (const p of content) {
    if (p && typeof p === 'object' && (p as { type?: unknown }).type === 'text' && typeof (p as { text?: unknown }).text === 'string') {
      out = out === undefined ? (p as { text: string }).text : `${out}\n${(p as { text: string }).text}`;
    }
  }
  return out;
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
  const h = createHash('sha256');
  h.update(tenant); h.update('\0'); h.update(ctx.model); h.update('\0'); h.update(ctx.op); h.update('\0');
  for (const k of Object.keys(body).sort()) {
    if (IGNORED.has(k) || body[k] === undefined) continue;
    h.update(k); h.update('=');
    feedCanonical(h, body[k]);
  }
  // Fields only the caller's native request carries (see src/llm/protocol.ts) change the answer too.
  const extras = ctx.native?.extras;
  if (extras !== undefined && Object.keys(extras).length > 0) {
    h.update('\0native='); feedCanonical(h, extras);
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
    h.update('messages=');
    for (let i = 0; i < first; i++) feedCanonical(h, messages[i]);
    h.update('|');
    const parts: string[] = [];
    for (let i = first; i < messages.length; i++) {
      const m = messages[i] as Message;
      const t = textOf(m.content);
      if (t !== undefined) parts.push(t);
      if (typeof m.content !== 'string') feedCanonical(h, nonText(m));
      else if (m.name !== undefined) feedCanonical(h, m.name);
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
  const partition = h.digest('hex').slice(0, 32);
  const e = createHash('sha256');
  e.update(partition); e.update('\0');
  if (text !== undefined) e.update(text); else feedCanonical(e, exactPayload);
  const semantic = ctx.op !== 'embedding' && text !== undefined && text.length <= MAX_SEMANTIC_TEXT;
  return { tenant, partition, exact: e.digest('base64url'), text: semantic ? text : undefined };
}
