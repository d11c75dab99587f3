/**
 * The governance pipeline stage. Runs once per request, after routing and the cache lookup:
 *  - before: model allow-lists at every level (403), then budgets and rate limits checked and reserved atomically (402/429);
 *    fallback targets the caller may not use are dropped from the chain, with a warning.
 *  - after: settles on the real usage of the target that answered (JSON: ctx.usage or the reply's usage; streams: the usage
 *    part, else an estimate from the streamed text).
 *  - failed: releases the reservation, unless `after` already saw a reply (that one is paid for: it is settled, a JSON reply
 *    once written, a stream when it ends or is closed unread) or upstream work was paid before the failure (cascade tiers that
 *    answered, the prompt of a call the client walked away from): that is settled instead.
 */
import { forbidden, unauthorized } from '../errors.js';
import type { RequestContext, Target } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import type { ProviderReply, Usage } from '../providers/types.js';
import { answeringTarget } from '../pipeline/answering-target.js';
import { billedParts, observeUsage, paidBeforeFailure } from './billing.js';
import type { Reservation } from './enforce.js';
import type { Governance } from './governance.js';
import { rateWindows } from './limits.js';
import type { LimitLevel } from './registry.js';
import { estimatePromptTokens, reservedCompletionTokens } from './tokens.js';
import { RequestLocal } from '../pipeline/request-local.js';

export interface GovernanceStageDeps {
  governance: Governance;
}

const denyingLevel = (levels: readonly LimitLevel[], requested: string, target: Target): LimitLevel | undefined => {
  for (const l of levels) if (l.allowed !== undefined && !l.allowed(requested, target)) return l;
  return undefined;
};

type Principal = NonNullable<ReturnType<Governance['principal']>>;

/**
 * The most a request may use, estimated before it runs: its tokens at the dearest target of its chain (any fallback may be
 * the one that answers), or, for a cascade, its tokens once per tier and judge it may run, each at that model's price (it
 * may pay them all). Reserving less would let concurrent requests that all end on a dearer model, or escalate, go past a
 * budget or token limit together.
 */
function worstCase(gov: Governance, ctx: RequestContext, primary: Target, promptTokens: number, completionTokens: number): { nanos: number; tokens: number } {
  const price = (t: Target): number => gov.pricing.costNanos(t.provider, t.model, promptTokens, completionTokens);
  const tokens = promptTokens + completionTokens;
  const route = ctx.route;
  if (route === undefined) return { nanos: price(primary), tokens };
  if (route.cascade !== undefined) {
    let nanos = 0;
    let calls = 0;
    for (const tier of route.cascade) {
      if (!route.chain.some((t) => t.provider === tier.provider && t.model === tier.model)) continue; // not run: not allowed
      nanos += price(tier);
      calls++;
      if (tier.checks?.judge !== undefined) {
        nanos += price(tier.checks.judge);
        calls++;
      }
    }
    return { nanos: Math.max(nanos, price(primary)), tokens: Math.max(1, calls) * tokens };
  }
  let nanos = price(primary);
  for (let i = 1; i < route.chain.length; i++) nanos = Math.max(nanos, price(route.chain[i]));
  return { nanos, tokens };
}

/** Requests whose route was authorized, so the governance stage does not repeat the access stage's checks. */
const authorized = new RequestLocal<Principal>('authorized');

/** Limits the counters enforce (requests in flight are admission's: src/server/in-flight.ts). */
const hasLimits = (l: LimitLevel): boolean => l.budget !== undefined || rateWindows(l).length > 0;

/**
 * The caller may use what the route chose: the key still exists, the primary target passes the allow-lists of the key, its
 * team and customer, and fallback targets that do not are dropped (with a warning). Returns the caller's principal.
 */
function authorizeRoute(gov: Governance, ctx: RequestContext): Principal {
  const known = authorized.get(ctx);
  if (known !== undefined) return known; // the access stage already checked this request
  const principal = gov.principal(ctx.caller);
  if (principal === undefined) throw unauthorized('The API key no longer exists.');
  const route = ctx.route;
  const primary: Target = route?.chain[0] ?? { provider: '', model: ctx.model };
  const denied = denyingLevel(principal.levels, ctx.model, primary);
  if (denied !== undefined) {
    throw forbidden(
      `The model '${ctx.model}' (routed to ${primary.provider}/${primary.model}) is not allowed for ${denied.label}.`,
      'model_not_allowed',
    );
  }
  if (route !== undefined && route.chain.length > 1) {
    const kept = route.chain.filter((t, i) => i === 0 || denyingLevel(principal.levels, ctx.model, t) === undefined);
    if (kept.length !== route.chain.length) {
      ctx.warnings.push(`Fallback targets not allowed for this caller were skipped: ${route.chain.filter((t) => !kept.includes(t)).map((t) => `${t.provider}/${t.model}`).join(', ')}`);
      ctx.route = { ...route, chain: kept };
    }
  }
  authorized.set(ctx, principal);
  return principal;
}

/**
 * Access stage: the allow-list check on its own, placed before the cache so a cached reply is never served for a model the
 * caller may not use. Runs once per request.
 */
export function createAccessStage(deps: GovernanceStageDeps): Stage {
  return {
    name: 'access',
    before(ctx) {
      authorizeRoute(deps.governance, ctx);
    },
  };
}

export function createGovernanceStage(deps: GovernanceStageDeps): Stage {
  const gov = deps.governance;
  const reservations = new RequestLocal<Reservation>('reservation');

  const settle = (ctx: RequestContext, res: Reservation, usage: Usage): void => {
    charge(ctx, res, billedParts(ctx, answeringTarget(ctx, res.target), usage));
  };

  const charge = (ctx: RequestContext, res: Reservation, parts: ReturnType<typeof billedParts>): void => {
    let cost = 0;
    for (const p of parts) cost += gov.pricing.costOf(p.target.provider, p.target.model, p.usage);
    ctx.facts.governance = { ...(ctx.facts.governance as object), cost_usd: cost };
    // Once the spend is recorded, this instance's cached capacity for the caller is stale: rules must see the new usage.
    void gov.enforcement.settleParts(res, parts).finally(() => gov.forgetCapacity(ctx.caller));
  };

  const reserve = async (ctx: RequestContext, principal: ReturnType<typeof authorizeRoute>): Promise<void> => {
    const primary: Target = ctx.route?.chain[0] ?? { provider: '', model: ctx.model };
    const promptTokens = estimatePromptTokens(ctx.body);
    const completionTokens = reservedCompletionTokens(ctx.body, ctx.op === 'embedding', gov.config.default_max_tokens);
    const most = worstCase(gov, ctx, primary, promptTokens, completionTokens);
    const res = await gov.enforcement.admit({ levels: principal.levels, target: primary, promptTokens, completionTokens, costNanos: most.nanos, tokens: most.tokens });
    reservations.set(ctx, res);
    ctx.facts.governance = { reserved_tokens: res.reservedTokens, reserved_usd: res.reservedNanos / 1e9 };
  };

  return {
    name: 'governance',

    before(ctx) {
      let principal: ReturnType<typeof authorizeRoute>;
      try {
        principal = authorizeRoute(gov, ctx);
      } catch (err) {
        return Promise.reject(err);
      }
      // A caller with no budget and no rate limit anywhere up its hierarchy has nothing to reserve or settle (and no await).
      if (!principal.levels.some(hasLimits)) return;
      return reserve(ctx, principal);
    },

    after(ctx, reply: ProviderReply): ProviderReply {
      const res = reservations.get(ctx);
      if (res === undefined) return reply;
      // A reply exists and was paid for: its settlement (a JSON reply's queued until the reply is written, a stream's at its
      // end, also when a later failure closes it unread) must not be undone by a release should a later step fail, so
      // `failed` no longer finds the reservation.
      reservations.delete(ctx);
      return observeUsage(ctx, reply, () => res.promptTokens, (usage) => settle(ctx, res, usage));
    },

    failed(ctx) {
      const res = reservations.get(ctx);
      if (res === undefined) return;
      // Upstream work the request paid for before it failed is charged like a reply's; with none, the estimate is returned.
      const paid = paidBeforeFailure(ctx, () => res.promptTokens);
      if (paid.length === 0) void gov.enforcement.release(res);
      else charge(ctx, res, paid);
    },
  };
}
