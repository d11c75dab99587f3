/**
 * The safety stage, right after routing: applies the `safety` policy and any `action` of the rule that routed the request.
 *  - block: refuse with 400 `content_policy` before anything leaves the gateway (onBlock is told the kind);
 *  - redact: the body sent upstream (ctx.upstreamBody) carries typed placeholders instead of the PII; `after` restores
 *    the originals in the reply (JSON or stream) when the policy says so. PII in text only the caller's native body carries
 *    (src/llm/protocol.ts) cannot be redacted, so that body is not sent: the (translated) internal request goes instead;
 *  - route: the request goes to the policy's target instead.
 * Requests that carry PII are marked `cache_no_store` so the response cache does not keep them (unless `pii.cache_pii`).
 * When nothing can act on the findings before the upstream call (no PII action, no rule's redact, no cache that may store),
 * the scan runs once the reply is written (../pipeline/after-reply.ts): the request log still carries the findings.
 * A large body is scanned off the event loop (pii-scan.ts); when that scan is refused for overload, a request whose
 * policy needs the findings is refused with it (503, retry), and a scan only the log wanted is left out of the log.
 * Runs once per request.
 */
import { GatewayError } from '../errors.js';
import { afterReply } from '../pipeline/after-reply.js';
import type { RequestContext, Target } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import type { ProviderReply } from '../providers/types.js';
import type { SafetyConfig } from './config.js';
import type { PiiType } from './detectors/types.js';
import { applyRedaction, placeholdersOutside, type PlaceholderValues, type RedactedTexts } from './redact.js';
import { restoreReply } from './restore.js';
import { hasFindingOf } from './pii-findings.js';
import { PiiScanBusy, type PiiScanner } from './pii-scan.js';
import { factsOf, type PiiReport, type SafetySignals } from './signals.js';
import { RequestLocal } from '../pipeline/request-local.js';

export type RuleAction = 'block' | 'redact';
export type BlockKind = 'pii' | 'jailbreak' | 'rule';

export interface SafetyStageDeps {
  signals: SafetySignals;
  config: () => SafetyConfig;
  /** The strongest `action` of the rules that decided the route (undefined when none set one). */
  ruleAction?: (ctx: RequestContext) => RuleAction | undefined;
  /** Called once per refused request, for metrics. */
  onBlock?: (kind: BlockKind) => void;
  /** Whether a response cache may store replies: its `cache_no_store` mark is then needed before the cache stage. */
  cacheStores?: boolean;
  /** Redacts (in place, or off the event loop for large texts): the signals' scanner, so both share one worker and bound. */
  scanner: PiiScanner;
}

export function contentPolicyError(reason: string): GatewayError {
  return new GatewayError({
    status: 400,
    message: `The request was refused by the gateway's content policy: ${reason}.`,
    type: 'invalid_request_error',
    code: 'content_policy',
    failure: 'policy',
  });
}

const toTarget = (s: string): Target => ({ provider: s.slice(0, s.indexOf('/')), model: s.slice(s.indexOf('/') + 1) });

export function createSafetyStage(deps: SafetyStageDeps): Stage {
  const restores = new RequestLocal<PlaceholderValues>('pii restore');
  const scanner = deps.scanner;

  const block = (ctx: RequestContext, kind: BlockKind, reason: string): never => {
    factsOf(ctx)['action'] = `block:${kind}`;
    deps.onBlock?.(kind);
    throw contentPolicyError(reason);
  };

  const reroute = (ctx: RequestContext, target: string, why: string): void => {
    ctx.route = { chain: [toTarget(target)], rule: why };
    ctx.replyHeaders['x-switchyard-rule'] = why;
  };

  // Everything after the jailbreak check: a rule's block, then the PII policy. Synchronous unless the request's texts are
  // large enough to be scanned off the event loop (pii-scan.ts).
  const applyPolicy = (ctx: RequestContext, cfg: SafetyConfig, ruleAction: RuleAction | undefined, actions: string[]): void | Promise<void> => {
    if (ruleAction === 'block') block(ctx, 'rule', `rule '${ctx.route?.rule ?? ''}' refuses such requests`);
    // Nothing acts on the findings before the upstream call: they are found for the request log once the reply is out.
    if (cfg.pii.action === 'none' && ruleAction !== 'redact' && (deps.cacheStores !== true || cfg.pii.cache_pii)) {
      finish(ctx, actions);
      afterReply(ctx, () => markPii(ctx, cfg));
      return;
    }
    const pii = deps.signals.pii(ctx);
    if (pii instanceof Promise) return pii.then((r) => applyPii(ctx, cfg, ruleAction, actions, r));
    return applyPii(ctx, cfg, ruleAction, actions, pii);
  };

  const applyPii = (ctx: RequestContext, cfg: SafetyConfig, ruleAction: RuleAction | undefined, actions: string[], pii: PiiReport): void | Promise<void> => {
    if (pii.count === 0) return finish(ctx, actions);
    const types = new Set<PiiType>(cfg.pii.types);
    const matched = pii.types.filter((t) => types.has(t));
    const policy = matched.length > 0 ? cfg.pii.action : 'none';
    if (policy === 'block') block(ctx, 'pii', `the request contains personal data or secrets (${matched.join(', ')})`);
    if (policy === 'route' && cfg.pii.target) {
      reroute(ctx, cfg.pii.target, 'safety:pii');
      actions.push('route:pii');
    }
    if (!cfg.pii.cache_pii) ctx.facts['cache_no_store'] = true;
    if (policy !== 'redact' && ruleAction !== 'redact') return finish(ctx, actions);
    // A rule's redact covers every kind found; the policy's only its listed kinds. A large body is redacted off the event
    // loop, behind the scan's bound (refused with the scan's 503 past it).
    const redactTypes = ruleAction === 'redact' ? pii.types : cfg.pii.types;
    const redacted = (done: RedactedTexts | undefined): void => {
      const red = done && applyRedaction(ctx.body, pii.slots, done);
      if (red) {
        ctx.upstreamBody = red.body;
        if (cfg.pii.restore) restores.set(ctx, red.originals);
        actions.push(`redact:${red.replaced}`);
        ctx.replyHeaders['x-switchyard-redacted'] = String(red.replaced);
      }
      // Text only the caller's own body carries cannot be redacted: that body stays here, the internal request goes
      // (an upstream of the caller's protocol then gets the translation, which refuses what it cannot carry).
      if (ctx.upstreamBody === undefined && pii.native.some((t) => ruleAction === 'redact' || types.has(t))) {
        ctx.upstreamBody = ctx.body;
        actions.push('translate:pii');
      }
      finish(ctx, actions);
    };
    // Nothing of those kinds in the texts redaction reaches (it may be in the native body's only): no redaction job.
    if (!hasFindingOf(pii.found, pii.slots.length, new Set(redactTypes))) return redacted(undefined);
    const texts = pii.slots.map((s) => s.text);
    const r = scanner.redact(texts, pii.found, redactTypes, () => placeholdersOutside(ctx.body, pii.slots), ctx.caller.virtualKeyId);
    if (!(r instanceof Promise)) return redacted(r);
    return r.then(redacted, (err: unknown) => {
      finish(ctx, actions); // a refused redaction's log still shows what was decided before it
      throw err;
    });
  };

  const finish = (ctx: RequestContext, actions: string[]): void => {
    if (actions.length > 0) factsOf(ctx)['action'] = actions.join(',');
  };

  // The findings and the cache mark alone (no action): what the request log shows. A large body's scan the worker cannot
  // take now is left out of the log (`pii_scan: busy`) rather than held against the event loop.
  const markPii = (ctx: RequestContext, cfg: SafetyConfig): void | Promise<void> => {
    const mark = (r: PiiReport): void => {
      if (r.count > 0 && !cfg.pii.cache_pii) ctx.facts['cache_no_store'] = true;
    };
    const r = deps.signals.pii(ctx);
    if (!(r instanceof Promise)) return mark(r);
    return r.then(mark, (err: unknown) => {
      if (!(err instanceof PiiScanBusy)) throw err;
      factsOf(ctx)['pii_scan'] = 'busy';
    });
  };

  return {
    name: 'safety',
    // Synchronous (no promise, no await in the pipeline) unless the jailbreak check is on (it may wait for the embedding) or
    // a large body's PII scan runs off the event loop.
    before(ctx): Promise<void> | void {
      const cfg = deps.config();
      const ruleAction = deps.ruleAction?.(ctx);
      if (cfg.jailbreak.action === 'none') return applyPolicy(ctx, cfg, ruleAction, []);
      // Jailbreak first: a refused request needs no PII work.
      return deps.signals.jailbreak(ctx).then((jb) => {
        const actions: string[] = [];
        if (jb.flagged && cfg.jailbreak.action === 'block') block(ctx, 'jailbreak', 'the request looks like a prompt-injection or jailbreak attempt');
        if (jb.flagged && cfg.jailbreak.target) {
          reroute(ctx, cfg.jailbreak.target, 'safety:jailbreak');
          actions.push('route:jailbreak');
        }
        return applyPolicy(ctx, cfg, ruleAction, actions);
      });
    },
    after(ctx, reply): ProviderReply {
      const originals = restores.get(ctx);
      return originals && reply.status >= 200 && reply.status < 300 ? restoreReply(reply, originals) : reply;
    },
  };
}

/** The strongest action among the rules that decided the request's route (block beats redact). */
export function ruleActionOf(
  ctx: RequestContext,
  byName: ReadonlyMap<string, { readonly action?: RuleAction | undefined }>,
): RuleAction | undefined {
  const names = (ctx.facts['rule_chain'] as string[] | undefined) ?? (ctx.route ? [ctx.route.rule] : []);
  let out: RuleAction | undefined;
  for (const n of names) {
    const a = byName.get(n)?.action;
    if (a === 'block') return a;
    if (a) out = a;
  }
  return out;
}
