/**
 * The orchestrator: runs the stages' `before` hooks in declared order (any may short-circuit with a reply or refuse with an
 * error), then the terminal step (the provider chain), then `after` hooks in reverse for the stages whose `before` ran.
 * Nothing else lives here.
 */
import { asGatewayError } from '../errors.js';
import type { ProviderReply } from '../providers/types.js';
import type { RequestContext } from './context.js';
import type { Stage } from './stage.js';

export async function runPipeline(
  ctx: RequestContext,
  stages: readonly Stage[],
  terminal: (ctx: RequestContext) => Promise<ProviderReply>,
): Promise<ProviderReply> {
  let ran = 0;
  try {
    let reply: ProviderReply | undefined;
    for (; ran < stages.length && reply === undefined; ran++) {
      const before = stages[ran].before;
      if (before) reply = (await before.call(stages[ran], ctx)) ?? undefined;
    }
    if (reply === undefined) reply = await terminal(ctx);
    for (let i = ran - 1; i >= 0; i--) {
      const after = stages[i].after;
      if (after) reply = after.call(stages[i], ctx, reply);
    }
    return reply;
  } catch (err) {
    const gerr = asGatewayError(err);
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
