/**
 * Pipeline stages. Each stage is one module with up to three hooks:
 *  - before(ctx): runs once per request, in declared order, before the upstream call. It may short-circuit by returning a
 *    reply (a cache hit is a short-circuit, not a special case) or refuse by throwing a GatewayError.
 *  - after(ctx, reply): runs in reverse order, only for stages whose `before` ran, once a reply exists. It may wrap a streamed
 *    reply to observe it (see observeStream) and returns the reply to pass on.
 *  - failed(ctx, err): runs in reverse order, only for stages whose `before` ran, when the request ends in an error.
 */
import type { GatewayError } from '../errors.js';
import type { ProviderReply, StreamPart, StreamReply } from '../providers/types.js';
import type { RequestContext } from './context.js';

export interface Stage {
  readonly name: string;
  before?(ctx: RequestContext): Promise<ProviderReply | void> | ProviderReply | void;
  after?(ctx: RequestContext, reply: ProviderReply): ProviderReply;
  failed?(ctx: RequestContext, err: GatewayError): void;
}

/** How a streamed reply ended, as seen by an observer. */
export type StreamEnd = { outcome: 'done' } | { outcome: 'error'; message: string } | { outcome: 'aborted' };

interface Observer {
  onPart: ((part: StreamPart) => void) | undefined;
  onEnd: (end: StreamEnd) => void;
}

/**
 * A stream with observers: one iterator over the source that hands each part to every observer in one synchronous loop, in
 * the order they were added (nearest the upstream first). Observing an observed stream that nobody has started reading
 * adds an observer to it rather than another async layer, so a reply watched by several stages costs one await per part.
 */
class ObservedParts implements AsyncIterable<StreamPart>, AsyncIterator<StreamPart> {
  readonly observers: Observer[] = [];
  /** Once iteration began, the observer list is closed: a later observeStream wraps this stream instead. */
  started = false;
  private end: StreamEnd = { outcome: 'aborted' };
  private ended = false;

  constructor(private readonly source: AsyncIterator<StreamPart>) {}

  [Symbol.asyncIterator](): AsyncIterator<StreamPart> {
    this.started = true;
    return this;
  }

  async next(): Promise<IteratorResult<StreamPart>> {
    let r: IteratorResult<StreamPart>;
    try {
      r = await this.source.next();
    } catch (err) {
      await this.finish();
      throw err;
    }
    if (r.done === true) {
      await this.finish();
      return r;
    }
    const part = r.value;
    if (part.type === 'done') this.end = DONE;
    else if (part.type === 'error') this.end = { outcome: 'error', message: part.failure.message };
    const observers = this.observers;
    for (let i = 0; i < observers.length; i++) observers[i].onPart?.(part);
    return r;
  }

  async return(value?: unknown): Promise<IteratorResult<StreamPart>> {
    await this.finish();
    return { done: true, value: value as StreamPart };
  }

  /** Closes the source, then tells every observer how the stream ended (each one, even if one throws); runs once. */
  private async finish(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    let failed = false;
    let error: unknown;
    try {
      await this.source.return?.();
    } catch (err) {
      failed = true;
      error = err;
    }
    for (const o of this.observers) {
      try {
        o.onEnd(this.end);
      } catch (err) {
        if (!failed) {
          failed = true;
          error = err;
        }
      }
    }
    if (failed) throw error;
  }
}

const DONE: StreamEnd = { outcome: 'done' };

/**
 * Wraps a streamed reply so `onPart` sees every part and `onEnd` is called exactly once with how the stream ended — also
 * when the consumer stops before reading anything. The source is closed before `onEnd` runs, and observers nearer the
 * upstream (added earlier) are told first. Parts pass through unchanged; an observer must not throw.
 */
export function observeStream(
  reply: StreamReply,
  onPart: ((part: StreamPart) => void) | undefined,
  onEnd: (end: StreamEnd) => void,
): StreamReply {
  const parts = reply.parts instanceof ObservedParts && !reply.parts.started ? reply.parts : new ObservedParts(reply.parts[Symbol.asyncIterator]());
  parts.observers.push({ onPart, onEnd });
  const out: StreamReply = { kind: 'stream', status: reply.status, parts };
  if (reply.native !== undefined) out.native = reply.native;
  return out;
}

/**
 * Closes a streamed reply that will not be read to its end (a JSON reply has nothing to close): its iterator's `return()` frees
 * the upstream and runs the observers' end hooks with an abort, so what a stream accounts for at its end (spend, the budget's
 * settlement, the key's verdict) happens. Closing a stream that already ended does nothing. Rejects if an end hook threw.
 */
export async function closeStream(reply: ProviderReply | undefined): Promise<void> {
  if (reply?.kind === 'stream') await reply.parts[Symbol.asyncIterator]().return?.();
}
