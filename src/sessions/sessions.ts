/**
 * Sticky conversations: the session a request belongs to, read at most once per request, and recorded once the request
 * is answered (./stage.ts: never for a request refused or failed) — the target that answered it (a fallback, when the
 * primary failed), the highest complexity band seen and the turn count — with an idle TTL. Rules opt in: a `sticky` rule
 * keeps a session on the target that last answered it, and any rule can read `session.tier` to never route a conversation
 * below its highest tier.
 */
import type { Logger } from 'pino';
import { COMPLEXITY_BANDS, estimateComplexity, type ComplexityBand } from '../cascade/complexity.js';
import type { RequestContext } from '../pipeline/context.js';
import { answeringTarget } from '../pipeline/answering-target.js';
import { targetKey } from '../pipeline/resolve-target.js';
import type { SessionsConfig } from './config.js';
import { sessionId, type SessionId } from './session-key.js';
import type { SessionState, SessionStore } from './store.js';
import { RequestLocal } from '../pipeline/request-local.js';

/** What rules and explain see of a request's session (before this request is recorded). */
export interface SessionFacts {
  /** Store key (a hash; never the raw header); "" when the request has no session. */
  id: string;
  source: SessionId['source'] | '';
  /** "provider/model" that answered the session's last answered request; "" for a new session. */
  target: string;
  /** Highest complexity band seen in the session; "" for a new session. */
  tier: ComplexityBand | '';
  /** Earlier requests in the session. */
  turns: number;
}

export const NO_SESSION: SessionFacts = Object.freeze({ id: '', source: '', target: '', tier: '', turns: 0 });

const rank = (t: ComplexityBand | ''): number => (t === '' ? -1 : COMPLEXITY_BANDS.indexOf(t));

export class Sessions {
  private readonly seen = new RequestLocal<Promise<SessionFacts>>('session');
  private lastWarn = 0;

  constructor(private readonly store: SessionStore, private readonly cfg: () => SessionsConfig, private readonly logger?: Logger) {}

  get kind(): SessionStore['kind'] {
    return this.store.kind;
  }

  /** The request's session as stored before it; NO_SESSION when sessions are off, the request has none, or the store failed. */
  facts(ctx: RequestContext): Promise<SessionFacts> {
    let f = this.seen.get(ctx);
    if (f === undefined) {
      f = this.load(ctx);
      this.seen.set(ctx, f);
    }
    return f;
  }

  private async load(ctx: RequestContext): Promise<SessionFacts> {
    const cfg = this.cfg();
    if (!cfg.enabled) return NO_SESSION;
    const id = sessionId(ctx, cfg);
    if (id === undefined) return NO_SESSION;
    let state: SessionState | undefined;
    try {
      state = await this.store.get(id.key);
    } catch (err) {
      this.warn(err);
    }
    return state ? { id: id.key, source: id.source, ...state } : { ...NO_SESSION, id: id.key, source: id.source };
  }

  /**
   * Records the answered request in its session: the target that answered it (a fallback when the primary failed; the
   * route's primary for a cache hit, which made no attempt), the highest band so far (this request's from its text
   * included) and one more turn; the idle TTL starts again. Never throws.
   */
  async record(ctx: RequestContext): Promise<void> {
    const cfg = this.cfg();
    const route = ctx.route;
    if (!cfg.enabled || route === undefined || route.chain.length === 0) return;
    const prev = await this.facts(ctx);
    if (prev.id === '') return;
    const band = estimateComplexity(ctx.body).band;
    const state: SessionState = {
      target: targetKey(answeringTarget(ctx, route.chain[0]!)),
      tier: rank(band) >= rank(prev.tier) ? band : (prev.tier as ComplexityBand),
      turns: prev.turns + 1,
    };
    // `kept`: a sticky rule routed the request to the session's target and that target answered (not a fallback).
    const kept = route.sticky === true && state.target === prev.target;
    ctx.facts.session = { id: prev.id, source: prev.source, turns: state.turns, target: state.target, tier: state.tier, ...(kept ? { kept: true } : {}) };
    try {
      await this.store.put(ctx.caller.virtualKeyId, prev.id, state, cfg.idle_ttl_s * 1000);
    } catch (err) {
      this.warn(err);
    }
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarn < 10_000) return;
    this.lastWarn = now;
    this.logger?.warn({ err: (err as Error).message }, 'session store unavailable: requests route as new sessions');
  }
}
