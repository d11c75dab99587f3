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
import { withCleanup } from '../util/with-cleanup.js';
import type { RequestContext } from './context.js';

export interface Stage {
  readonly name: string;
  before?(ctx: RequestContext): Promise<ProviderReply | void> | ProviderReply | void;
  after?(ctx: RequestContext, reply: ProviderReply): ProviderReply;
  failed?(ctx: RequestContext, err: GatewayError): void;
}

/** How a streamed reply ended, as seen by an observer. */
export type StreamEnd = { outcome: 'done' } | { outcome: 'error'; message: string } | { outcome: 'aborted' };

/**
 * Wraps a streamed reply so `onPart` sees every part and `onEnd` is called exactly once with how the stream ended — also
 * when the consumer stops before reading anything. The source is closed before `onEnd` runs, so observers nearer the
 * upstream finish first. Parts pass through unchanged; an observer must not throw.
 */
export function observeStream(
  reply: StreamReply,
  onPart: ((part: StreamPart) => void) | undefined,
  onEnd: (end: StreamEnd) => void,
): StreamReply {
  const source = reply.parts[Symbol.asyncIterator]();
  let end: StreamEnd = { outcome: 'aborted' };
  async function* observed(): AsyncGenerator<StreamPart> {
    for (;;) {
      const r = await source.next();
      if (r.done) return;
      const part = r.value;
      if (part.type === 'done') end = { outcome: 'done' };
      else if (part.type === 'error') end = { outcome: 'error', message: part.failure.message };
      onPart?.(part);
      yield part;
    }
  }
  const close = async (): Promise<void> => {
    try {
      await source.return?.();
    } finally {
      onEnd(end);
    }
  };
  const out: StreamReply = { kind: 'stream', status: reply.status, parts: withCleanup(observed(), close) };
  if (reply.native !== undefined) out.native = reply.native;
  return out;
}
