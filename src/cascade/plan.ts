/**
 * The cascade plan as explain shows it: the tiers in order with their checks, and what a streamed request would do.
 */
import type { RouteDecision } from '../pipeline/context.js';
import { hasChecks } from './config.js';
import type { CascadeChecks } from './types.js';

export interface CascadePlan {
  tiers: Array<{ tier: number; provider: string; model: string; checks: CascadeChecks; checked: boolean }>;
  /** The rule's cascade_streaming, when it sets one (else the gateway's cascade.streaming). */
  streaming?: string;
  /** Whether this request is streamed. */
  stream: boolean;
}

export function cascadePlan(route: RouteDecision, stream: boolean): CascadePlan {
  const tiers = (route.cascade ?? []).map((t, i, all) => ({
    tier: i,
    provider: t.provider,
    model: t.model,
    checks: t.checks,
    // the last tier's answer is returned whatever it says
    checked: i < all.length - 1 && hasChecks(t.checks),
  }));
  return { tiers, ...(route.cascadeStreaming ? { streaming: route.cascadeStreaming } : {}), stream };
}
