/**
 * An SSE body read into typed parts one upstream read at a time: each read's events become parts in one synchronous pass
 * (the SSE parser and the protocol's event reader are plain functions, not async generators), and `next()` hands them out
 * from that batch without an await of its own. One await per upstream read instead of a chain of generators per part.
 */
import type { StreamPart } from '../llm/parts.js';
import { SseParser, type SseEvent } from './sse.js';

/** Appends the parts of one event to `out`; true when the stream ends with it (its terminator or an error part). */
export type ReadEvent = (ev: SseEvent, out: StreamPart[]) => boolean;

class SsePartReader implements AsyncIterator<StreamPart> {
  private readonly parser = new SseParser();
  private readonly events: SseEvent[] = [];
  private batch: StreamPart[] = [];
  private at = 0;
  /** No parts will follow the current batch. */
  private ended = false;

  constructor(private readonly body: AsyncIterator<Uint8Array | string>, private readonly read: ReadEvent) {}

  next(): Promise<IteratorResult<StreamPart>> {
    if (this.at < this.batch.length) return Promise.resolve({ done: false, value: this.batch[this.at++] });
    return this.fill();
  }

  /** Reads the body until a read yields parts (or it ends); a network error or an oversized line rejects. */
  private async fill(): Promise<IteratorResult<StreamPart>> {
    while (this.at >= this.batch.length) {
      if (this.ended) return { done: true, value: undefined };
      this.batch = [];
      this.at = 0;
      const r = await this.body.next();
      if (r.done === true) {
        this.ended = true;
        this.parser.end(this.events);
      } else {
        this.parser.push(r.value, this.events);
      }
      const events = this.events;
      for (let i = 0; i < events.length && !this.ended; i++) if (this.read(events[i], this.batch)) this.ended = true;
      events.length = 0;
    }
    return { done: false, value: this.batch[this.at++] };
  }

  async return(): Promise<IteratorResult<StreamPart>> {
    this.ended = true;
    this.batch = [];
    await this.body.return?.();
    return { done: true, value: undefined };
  }
}

/** The parts of an SSE body, made by `read` from each event; ends after the event `read` says ends the stream. */
export function ssePartSource(body: AsyncIterable<Uint8Array | string>, read: ReadEvent): AsyncIterator<StreamPart> {
  return new SsePartReader(body[Symbol.asyncIterator](), read);
}
