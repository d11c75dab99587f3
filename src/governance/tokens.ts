/**
 * Cheap token estimates for reservations and for streams that carry no usage. A single pass over UTF-16 code units, no
 * allocation, modelled on how BPE tokenizers (cl100k / o200k) split text: a word and its leading space are usually one token,
 * long words split every ~8 characters, digits group by three, punctuation runs split every three characters, CJK characters
 * are about one token each, other non-ASCII letters weigh double. Exact counts always come from the provider's usage.
 */

const enum Run {
  None = 0,
  Word = 1,
  Digit = 2,
  Punct = 3,
  Space = 4,
  Newline = 5,
}

function runTokens(run: Run, n: number): number {
  switch (run) {
    case Run.Word: return Math.ceil(n / 8);
    case Run.Digit: return Math.ceil(n / 3);
    case Run.Punct: return Math.ceil(n / 3);
    case Run.Space: return n > 1 ? Math.ceil((n - 1) / 4) : 0;
    case Run.Newline: return 1;
    default: return 0;
  }
}

/** Incremental estimator: feed text pieces (stream deltas) with push(); words split across pieces are counted once. */
export class TokenCounter {
  private done = 0;
  private run: Run = Run.None;
  private len = 0;

  push(text: string): void {
    let run = this.run;
    let len = this.len;
    let done = this.done;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let next: Run;
      let units = 1;
      if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) next = Run.Word;
      else if (c === 32 || c === 9) {
        // A single space before a word belongs to that word's token; spaces after a newline are indentation of it.
        if (run === Run.Newline) continue;
        next = Run.Space;
      } else if (c === 10 || c === 13) next = Run.Newline;
      else if (c >= 48 && c <= 57) next = Run.Digit;
      else if (c < 128) next = Run.Punct;
      else if ((c >= 0x3040 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) ||
        (c >= 0xf900 && c <= 0xfaff) || (c >= 0xd800 && c <= 0xdfff)) {
        // CJK characters and surrogate halves (emoji, rare scripts): about one token each.
        done += runTokens(run, len) + 1;
        run = Run.None;
        len = 0;
        continue;
      } else {
        next = Run.Word;
        units = 2;
      }
      if (next !== run) {
        done += runTokens(run, len);
        run = next;
        len = 0;
      }
      len += units;
    }
    this.run = run;
    this.len = len;
    this.done = done;
  }

  /** Ends the current text: the next push starts a new word. */
  end(): void {
    this.done += runTokens(this.run, this.len);
    this.run = Run.None;
    this.len = 0;
  }

  /** Counts one whole text. */
  add(text: string): void {
    this.push(text);
    this.end();
  }

  /** Tokens counted so far, including the run in progress. */
  get total(): number {
    return this.done + runTokens(this.run, this.len);
  }
}

export function estimateTokens(text: string): number {
  const c = new TokenCounter();
  c.push(text);
  return c.total;
}

/** Tokens a chat format adds per message and to prime the reply (OpenAI's documented accounting). */
const PER_MESSAGE = 3;
const REPLY_PRIMING = 3;
/** A high-detail image at the default size; low detail is 85. */
const IMAGE_TOKENS = 765;

/** Counts every string (and object key) inside a JSON value, such as tool definitions or tool calls. */
export function addValueStrings(counter: TokenCounter, value: unknown, depth = 0): void {
  if (depth > 8) return;
  if (typeof value === 'string') counter.add(value);
  else if (Array.isArray(value)) for (const v of value) addValueStrings(counter, v, depth + 1);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      counter.add(k);
      addValueStrings(counter, v, depth + 1);
    }
  }
}

function messageContent(counter: TokenCounter, content: unknown): number {
  let extra = 0;
  if (typeof content === 'string') counter.add(content);
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (part === null || typeof part !== 'object') continue;
      const p = part as { type?: unknown; text?: unknown; image_url?: { detail?: unknown } };
      if (typeof p.text === 'string') counter.add(p.text);
      else if (p.type === 'image_url') extra += p.image_url?.detail === 'low' ? 85 : IMAGE_TOKENS;
    }
  }
  return extra;
}

/** Estimated prompt tokens of an OpenAI-format request body. */
export function estimatePromptTokens(body: Readonly<Record<string, unknown>>): number {
  const counter = new TokenCounter();
  let extra = 0;
  const messages = body.messages;
  if (Array.isArray(messages)) {
    extra += REPLY_PRIMING;
    for (const m of messages) {
      if (m === null || typeof m !== 'object') continue;
      const msg = m as { content?: unknown; name?: unknown; tool_calls?: unknown };
      extra += PER_MESSAGE;
      extra += messageContent(counter, msg.content);
      if (typeof msg.name === 'string') {
        counter.add(msg.name);
        extra += 1;
      }
      if (msg.tool_calls !== undefined) addValueStrings(counter, msg.tool_calls);
    }
    if (body.tools !== undefined) addValueStrings(counter, body.tools);
  }
  for (const field of ['prompt', 'input'] as const) {
    const v = body[field];
    if (typeof v === 'string') counter.add(v);
    else if (Array.isArray(v)) {
      for (const item of v) {
        if (typeof item === 'string') counter.add(item);
        else if (typeof item === 'number') extra += 1;
        else if (Array.isArray(item)) extra += item.length;
      }
    }
  }
  return counter.total + extra;
}

const positiveInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined);

/** Completion tokens to reserve: the request's own cap, else the configured default; times `n` choices; 0 for embeddings. */
export function reservedCompletionTokens(body: Readonly<Record<string, unknown>>, isEmbedding: boolean, defaultMax: number): number {
  if (isEmbedding) return 0;
  const cap = positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens) ?? defaultMax;
  const n = positiveInt(body.n) ?? 1;
  return cap * Math.max(1, n);
}
