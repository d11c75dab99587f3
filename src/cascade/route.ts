/**
 * Turns a rule's cascade into the route: the chain lists the tiers' targets in order (so governance's allow-lists see
 * every tier and drop the ones the caller may not use), and `cascade` carries the tiers for the runner. Tiers whose
 * provider cannot serve the request type are dropped; embeddings, or fewer than two servable tiers, route as a plain chain.
 */
import { invalidRequest } from '../errors.js';
import type { RequestContext, RouteDecision } from '../pipeline/context.js';
import type { ModelTable } from '../pipeline/resolve-target.js';
import type { CascadeStreaming, CascadeTier } from './types.js';

export function cascadeRoute(
  ctx: RequestContext,
  table: ModelTable,
  rule: string,
  tiers: readonly CascadeTier[],
  streaming: CascadeStreaming | undefined,
): RouteDecision {
  const served = tiers.filter((t) => table.providers.get(t.provider)?.supports.has(ctx.op));
  if (served.length === 0) {
    const t = tiers[0]!;
    throw invalidRequest(`The routed target ${t.provider}/${t.model} cannot serve this request type.`, 'model', 'unsupported_operation');
  }
  const chain = served.map((t) => ({ provider: t.provider, model: t.model }));
  if (ctx.op === 'embedding' || served.length < 2) return { chain, rule };
  const route: RouteDecision = { chain, rule, cascade: served };
  if (streaming) route.cascadeStreaming = streaming;
  return route;
}
