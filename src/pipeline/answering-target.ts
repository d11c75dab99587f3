/**
 * Which target answered a request, read from its attempts — shared by everything that files a reply under a target: billing
 * and budgets (src/governance), the spend ledger (src/ledger) and sessions (src/sessions).
 */
import type { RequestContext, Target } from './context.js';

/**
 * The target that produced the delivered reply: the last attempt with a 2xx status (after a fallback, the fallback; in a
 * cascade, the answering tier, whose attempts come last), else `fallback` (a cache hit made no attempt).
 */
export function answeringTarget(ctx: RequestContext, fallback: Target): Target {
  for (let i = ctx.attempts.length - 1; i >= 0; i--) {
    const a = ctx.attempts[i];
    if (typeof a.status === 'number' && a.status >= 200 && a.status < 300) return { provider: a.provider, model: a.model };
  }
  return fallback;
}
