/**
 * The orchestrator: runs the stages' `before` hooks in declared order (any may short-circuit with a reply or refuse with an
 * error), then the terminal step (the provider chain), then `after` hooks in reverse for the stages whose `before` ran.
 * With tracing on, it also opens one span per step (src/observability/tracing.ts), so no stage traces itself. Nothing else
 * lives here.
 */
import { asGatewayError } from '../errors.js';
import type { StepSpan } from '../observability/tracing.js';
import type { ProviderReply } from '../providers/types.js';
import type { RequestContext } from './context.js';
import { closeStream, type Stage } from './stage.js';

export async function runPipeline(
  ctx: RequestContext,
  stages: readonly Stage[],
  terminal: (ctx: RequestContext) => Promise<ProviderReply>,
): Promise<ProviderReply> {
  // With tracing on, each `before` hook and the terminal step run inside a span of their own (one `?.` each when off).
  const trace = ctx.trace;
  let step: StepSpan | undefined;
  let ran = 0;
  let reply: ProviderReply | undefined;
  try {
    for (; ran < stages.length && reply === undefined; ran++) {
      const stage = stages[ran];
      if (!stage.before) continue;
      step = trace?.step(stage.name);
      // A hook that finished synchronously costs no await (most do, on a request with nothing to look up).
      const r = stage.before(ctx);
      reply = (r instanceof Promise ? await r : r) ?? undefined;
      step?.end(ctx);
      step = undefined;
    }
    if (reply === undefined) {
      step = trace?.step('execute');
      reply = await terminal(ctx);
      step?.end(ctx);
      step = undefined;
    }
    for (let i = ran - 1; i >= 0; i--) {
      const after = stages[i].after;
      if (after) reply = after.call(stages[i], ctx, reply);
    }
    return reply;
  } catch (err) {
    const gerr = asGatewayError(err);
    step?.end(ctx, gerr);
    // A streamed reply that exists (an `after` hook threw on it) will never be read: it is closed, which frees the upstream
    // and tells the stages observing it that it ended (aborted). What they account for at a stream's end happens there, as a
    // JSON reply's accounting stands once its stage saw it; `failed` hooks then run for what is left.
    try {
      await closeStream(reply);
    } catch {
      /* a failing end hook must not mask the original error */
    }
    for (let i = ran - 1; i >= 0; i--) {
      try {
        stages[i].failed?.(ctx, gerr);
      } catch {
        /* a failing failure hook must not mask the original error */
      }
    }
    throw err;
  }
}
