/**
 * Session stage: right after routing, records the request in its session (see ./sessions.ts), so the next turn — on this
 * instance or another sharing Redis — finds where this one went. Runs once per request; a no-op when sessions are off.
 */
import type { Stage } from '../pipeline/stage.js';
import type { Sessions } from './sessions.js';

export function createSessionStage(sessions: Sessions): Stage {
  return {
    name: 'session',
    async before(ctx) {
      await sessions.record(ctx);
    },
  };
}
