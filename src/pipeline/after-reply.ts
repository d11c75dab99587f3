/**
 * Work that reads a finished request but does not shape its reply — spend accounting, signals kept only for the request
 * log — runs once the reply has been handed to the socket, off the reply's path. The HTTP edge gives each request it serves
 * a queue (`RequestContext.afterReply`) and drains it after writing the reply, before the request log and metrics read the
 * request; a context without a queue (an explain, an offline command) runs such work at once.
 */
import type { RequestContext } from './context.js';

/** Runs `fn` once the request's reply is written (at once when the context has no queue). */
export function afterReply(ctx: RequestContext, fn: () => void): void {
  const queue = ctx.afterReply;
  if (queue === undefined) fn();
  else queue.push(fn);
}

/**
 * Runs the queued work in the order it was queued, each item once; one that throws is reported and the rest still run.
 * Work queued while draining runs too.
 */
export function drainAfterReply(ctx: RequestContext, onError: (err: unknown) => void): void {
  const queue = ctx.afterReply;
  if (queue === undefined) return;
  for (let i = 0; i < queue.length; i++) {
    try {
      queue[i]();
    } catch (err) {
      onError(err);
    }
  }
  queue.length = 0;
}
