/**
 * Work that reads a finished request but does not shape its reply — spend accounting, signals kept only for the request
 * log — runs once the reply has been handed to the socket, off the reply's path. The HTTP edge gives each request it serves
 * a queue (`RequestContext.afterReply`) and drains it after writing the reply, before the request log and metrics read the
 * request; a context without a queue (an explain, an offline command) runs such work at once.
 */
import type { RequestContext } from './context.js';

/** Work to run after the reply: synchronous, or a promise the request log waits for (work bounded by its own wait). */
export type AfterReplyWork = () => void | Promise<void>;

/** Runs `fn` once the request's reply is written (at once when the context has no queue; a promise it returns is not awaited). */
export function afterReply(ctx: RequestContext, fn: AfterReplyWork): void {
  const queue = ctx.afterReply;
  if (queue === undefined) {
    const p = fn();
    if (p instanceof Promise) p.catch(() => undefined);
  } else queue.push(fn);
}

/**
 * Runs the queued work in the order it was queued, each item once; one that throws or rejects is reported and the rest
 * still run. Work queued while draining runs too. Returns a promise when some work is asynchronous: it settles once all
 * of it has, so the request log that follows reads what that work recorded.
 */
export function drainAfterReply(ctx: RequestContext, onError: (err: unknown) => void): Promise<void> | undefined {
  const queue = ctx.afterReply;
  if (queue === undefined) return undefined;
  let waits: Promise<void>[] | undefined;
  for (let i = 0; i < queue.length; i++) {
    try {
      const p = queue[i]();
      if (p instanceof Promise) (waits ??= []).push(p.catch(onError));
    } catch (err) {
      onError(err);
    }
  }
  queue.length = 0;
  return waits === undefined ? undefined : Promise.all(waits).then(() => undefined);
}
