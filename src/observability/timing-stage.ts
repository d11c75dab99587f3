/**
 * The timing stage: measures a streamed reply's time to first byte (arrival to the first part handed to the HTTP edge) and
 * records it as the `ttfb_ms` fact, which the request outcome and the logs read. Declare it first so its `after` runs last,
 * closest to the edge, and sees cache replays as well as upstream streams. Runs once per request; JSON replies pass untouched.
 */
import { performance } from 'node:perf_hooks';
import type { RequestContext } from '../pipeline/context.js';
import { observeStream, type Stage } from '../pipeline/stage.js';
import type { ProviderReply } from '../providers/types.js';
import { TTFB_FACT } from './outcome.js';

export function createTimingStage(): Stage {
  return {
    name: 'timing',
    after(ctx: RequestContext, reply: ProviderReply): ProviderReply {
      if (reply.kind !== 'stream') return reply;
      let first = true;
      return observeStream(
        reply,
        () => {
          if (first) {
            first = false;
            ctx.facts[TTFB_FACT] = Math.round((performance.now() - ctx.startedAt) * 1000) / 1000;
          }
        },
        () => undefined,
      );
    },
  };
}
