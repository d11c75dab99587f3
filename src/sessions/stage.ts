/**
 * Session stage: sits right after routing. Its `before` reads the request's session (at most once per request; routing
 * may already have read it), and its `after` records the request there — only once a reply exists, so a request refused
 * by safety, access or governance, or failed on every target, neither pins nor changes its session. The next turn — on
 * this instance or another sharing Redis — finds where the last answered one went. Runs once per request; a no-op when
 * sessions are off.
 */
import type { Stage } from '../pipeline/stage.js';
import type { Sessions } from './sessions.js';

export function createSessionStage(sessions: Sessions): Stage {
  return {
    name: 'session',
    async before(ctx) {
      await sessions.facts(ctx);
    },
    after(ctx, reply) {
      // The session is read already, so this is one store write, sent before the reply goes out; it never throws.
      void sessions.record(ctx);
      return reply;
    },
  };
}
