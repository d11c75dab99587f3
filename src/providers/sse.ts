/**
 * Server-sent events, both directions: a parser for upstream bodies and the writer used at the HTTP edge.
 */
import { EVENT_TOO_LARGE } from './failure.js';

export interface SseEvent {
  event?: string;
  data: string;
}

/**
 * Longest line accepted from an upstream, and most data one event may gather over its lines: a peer that never sends a
 * newline, or data lines without the blank line that ends their event, cannot grow memory without bound. A longer line or
 * event is one the request asked to be that large (./failure.ts, `classifyNetworkError`): the caller's, like a JSON reply
 * over its cap.
 */
export const MAX_SSE_LINE = 8 * 1024 * 1024;

/** A line end other than '\n': '\r\n' or a lone '\r'. */
const CR_LINE_END = /\r\n?/g;

const tooLong = (what: string): Error =>
  Object.assign(new Error(`upstream sent ${what} over ${MAX_SSE_LINE} bytes`), { code: EVENT_TOO_LARGE, limit: MAX_SSE_LINE });

/**
 * Where the value of the line `buffer[start, end)` begins when the line is field `name` (its name alone, or the name, a colon
 * and one optional space before the value); -1 for another field or a comment. The line is matched at its start, never
 * searched for its colon: a search runs on past a line that has none, to the next colon in the read, so a read of many
 * such lines would be searched once per line (quadratic: 64 KB of them cost 30 ms, an 8 MB stream of them seconds).
 */
function valueOf(buffer: string, start: number, end: number, name: string): number {
  const nameEnd = start + name.length;
  if (nameEnd > end || !buffer.startsWith(name, start)) return -1;
  if (nameEnd === end) return end;
  if (buffer.charCodeAt(nameEnd) !== 58 /* : */) return -1;
  return nameEnd + 1 < end && buffer.charCodeAt(nameEnd + 1) === 32 ? nameEnd + 2 : nameEnd + 1;
}

/**
 * A push parser for an SSE byte stream: `push` each piece as it arrives and the complete events in it are appended to `out`;
 * `end` appends a last event left without its blank line. Handles the three line ends the format allows (\n, \r\n and a
 * lone \r), multi-line data, comments and pieces split anywhere (in a line, in a line end, in a UTF-8 sequence). Throws
 * when a line, or the data of one event, grows past MAX_SSE_LINE.
 */
export class SseParser {
  private readonly decoder = new TextDecoder();
  /**
   * The line being read, in the pieces it came in: a piece without a line end is only kept, so a long line costs one join
   * when its end arrives rather than a copy and a fresh scan of everything so far at every piece (quadratic: an 8 MB line
   * read 64 KB at a time held the event loop for seconds).
   */
  private readonly partial: string[] = [];
  /** Characters in `partial`. */
  private partialSize = 0;
  /** The last piece ended with '\r': a '\n' opening the next one belongs to that line end. */
  private afterCr = false;
  private event: string | undefined;
  private data: string[] = [];
  /** Characters in `data` (the current event's lines so far). */
  private dataSize = 0;

  push(piece: Uint8Array | string, out: SseEvent[]): void {
    let text = typeof piece === 'string' ? piece : this.decoder.decode(piece, { stream: true });
    // Every line end becomes '\n' before the lines are read; a '\r' that ended the last piece may have its '\n' here.
    if (this.afterCr && text.length > 0) {
      this.afterCr = false;
      if (text.charCodeAt(0) === 10) text = text.slice(1);
    }
    if (text.indexOf('\r') >= 0) {
      this.afterCr = text.charCodeAt(text.length - 1) === 13;
      text = text.replace(CR_LINE_END, '\n');
    }
    const firstEnd = text.indexOf('\n');
    if (firstEnd < 0) {
      this.keep(text);
      return;
    }
    // Lines are read in place (no copy of the rest of the buffer per line); what follows the last newline is kept.
    let nl = this.partialSize + firstEnd;
    const buffer = this.partialSize === 0 ? text : this.takePartial() + text;
    let from = 0;
    do {
      this.line(buffer, from, nl, out);
      from = nl + 1;
    } while ((nl = buffer.indexOf('\n', from)) >= 0);
    if (from < buffer.length) this.keep(buffer.slice(from));
  }

  /** The kept text of the line being read, now emptied. */
  private takePartial(): string {
    const text = this.partial.length === 1 ? this.partial[0] : this.partial.join('');
    this.partial.length = 0;
    this.partialSize = 0;
    return text;
  }

  /** Keeps text of the line being read; throws once the line is over MAX_SSE_LINE. */
  private keep(text: string): void {
    if (text.length === 0) return;
    this.partialSize += text.length;
    if (this.partialSize > MAX_SSE_LINE) throw tooLong('an event line');
    this.partial.push(text);
  }

  end(out: SseEvent[]): void {
    const buffer = this.takePartial() + this.decoder.decode();
    if (buffer.length > 0) this.line(buffer, 0, buffer.length, out);
    this.dispatch(out);
  }

  private line(buffer: string, start: number, end: number, out: SseEvent[]): void {
    if (start === end) {
      this.dispatch(out);
      return;
    }
    // Comments and fields other than these two are ignored.
    let valueStart = valueOf(buffer, start, end, 'data');
    if (valueStart >= 0) {
      this.dataSize += end - valueStart + 1;
      if (this.dataSize > MAX_SSE_LINE) throw tooLong('an event');
      this.data.push(buffer.slice(valueStart, end));
    } else if ((valueStart = valueOf(buffer, start, end, 'event')) >= 0) this.event = buffer.slice(valueStart, end);
  }

  private dispatch(out: SseEvent[]): void {
    const data = this.data;
    if (data.length > 0) {
      const text = data.length === 1 ? data[0] : data.join('\n');
      out.push(this.event === undefined ? { data: text } : { event: this.event, data: text });
      this.data = [];
      this.dataSize = 0;
    }
    this.event = undefined;
  }
}

/** Parses an SSE byte stream into events (see SseParser). Throws when a line or an event grows past MAX_SSE_LINE. */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  for await (const piece of body) {
    parser.push(piece, events);
    for (let i = 0; i < events.length; i++) yield events[i];
    events.length = 0;
  }
  parser.end(events);
  yield* events;
}

/**
 * An event's data as the text of `data:` fields: the parser joined the upstream's `data:` lines with '\n', and each line
 * goes out on a `data:` line of its own (written as one, the second would reach the client as a field line of its own).
 * Data of one line, the usual case, is returned as it is.
 */
export const dataLines = (data: string): string => (data.includes('\n') ? data.replaceAll('\n', '\ndata: ') : data);

/** One SSE data frame. */
export const sseData = (json: string): string => `data: ${json}\n\n`;
export const SSE_DONE = 'data: [DONE]\n\n';
