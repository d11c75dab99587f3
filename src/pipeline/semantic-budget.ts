/**
 * The latency budget of a request's semantic work (`semantic.max_wait_ms`). The embedding, the intent that derives from it
 * and the cache lookup share one deadline, counted from the first of them to start. A wait that would pass the deadline is
 * abandoned and the request goes on without that result — degraded, never failed: the rules see intent "unavailable" and
 * semantic_ready false, the cache is skipped for overload. The outcome is recorded once per request in `ctx.facts.semantic`
 * and the `x-switchyard-semantic` reply header, where logs, metrics, explain and the dashboard read it.
 */
import type { RequestContext } from './context.js';

/**
 * Why semantic work was given up: the embedder's queue was full (busy), the budget ran out while waiting (timeout), or
 * the event loop already ran later than the budget, so the work was not started (lagging).
 */
export type DegradeReason = 'busy' | 'timeout' | 'lagging';
/** Which wait was given up. */
export type DegradeStage = 'embed' | 'cache';

/** The request's semantic outcome, as kept in ctx.facts.semantic. */
export interface SemanticOutcome {
  state: 'ready' | 'degraded';
  reason?: DegradeReason;
  stage?: DegradeStage;
  /** The budget in force for this request. */
  budget_ms: number;
}

export const SEMANTIC_FACT = 'semantic';
export const SEMANTIC_HEADER = 'x-switchyard-semantic';

/**
 * A semantic result the request did not get within its budget. It is control flow, never shown to a caller, and is
 * raised on every degraded request under overload: `SemanticUnavailable.of` hands out one shared instance per reason and
 * stage, so a degraded request does not pay for capturing a stack trace.
 */
export class SemanticUnavailable extends Error {
  private static readonly shared = new Map<string, SemanticUnavailable>();

  static of(reason: DegradeReason, stage: DegradeStage): SemanticUnavailable {
    const key = `${reason}:${stage}`;
    let e = SemanticUnavailable.shared.get(key);
    if (e === undefined) {
      e = new SemanticUnavailable(reason, stage);
      SemanticUnavailable.shared.set(key, e);
    }
    return e;
  }

  private constructor(
    readonly reason: DegradeReason,
    readonly stage: DegradeStage,
  ) {
    super(`semantic ${stage} unavailable (${reason})`);
    this.name = 'SemanticUnavailable';
  }
}

export interface SemanticBudget {
  /** Aborted when the deadline passes: hand it to work that can stop early (the embedder drops a text nobody waits for). */
  readonly signal: AbortSignal;
  /** Milliseconds left before the deadline (the whole budget before the first wait starts the clock; 0 once past it). */
  remainingMs(): number;
  /**
   * `work`'s result, or a SemanticUnavailable('timeout', stage) rejection once the deadline has passed first (the first
   * call starts the clock). `work` is not cancelled by this; pass `signal` to it for that.
   */
  within<T>(work: Promise<T>, stage: DegradeStage): Promise<T>;
  /** Records that the request got its semantic result (unless it is already degraded). */
  ready(): void;
  /** Records that the request goes on without a semantic result (the first reason is kept). */
  degrade(reason: DegradeReason, stage: DegradeStage): void;
  readonly degraded: boolean;
}

const budgets = new WeakMap<RequestContext, SemanticBudget>();

/** The request's budget (one per request; `maxWaitMs` is read when it is first asked for). */
export function budgetOf(ctx: RequestContext, maxWaitMs: number): SemanticBudget {
  let b = budgets.get(ctx);
  if (b === undefined) {
    b = createBudget(ctx, maxWaitMs);
    budgets.set(ctx, b);
  }
  return b;
}

function createBudget(ctx: RequestContext, maxWaitMs: number): SemanticBudget {
  // Made on first use: a request that is degraded before it waits (lagging loop, full queue) never needs one.
  let controller: AbortController | undefined;
  let deadline: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  let outcome: SemanticOutcome | undefined;
  const waiting = new Set<() => void>();

  // At the deadline, results that have already arrived (I/O callbacks queued behind the timer in this loop iteration)
  // are still taken: the give-up runs after the loop's poll phase.
  const expire = (): void => {
    timer = undefined;
    expired = true;
    setImmediate(() => {
      controller?.abort();
      for (const give of [...waiting]) give();
    });
  };
  const start = (): void => {
    if (deadline !== undefined) return;
    deadline = performance.now() + maxWaitMs;
    timer = setTimeout(expire, maxWaitMs);
    timer.unref();
  };
  const settle = (): void => {
    if (waiting.size === 0 && timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
      // A later wait restarts the timer for what is left of the budget.
    }
  };
  const record = (o: SemanticOutcome): void => {
    outcome = o;
    ctx.facts[SEMANTIC_FACT] = o;
    ctx.replyHeaders[SEMANTIC_HEADER] = o.state;
  };

  return {
    get signal() {
      controller ??= new AbortController();
      if (expired) controller.abort();
      return controller.signal;
    },
    remainingMs() {
      if (expired) return 0;
      return deadline === undefined ? maxWaitMs : Math.max(0, deadline - performance.now());
    },
    within<T>(work: Promise<T>, stage: DegradeStage): Promise<T> {
      start();
      if (!expired && timer === undefined) {
        const left = deadline! - performance.now();
        if (left <= 0) expire();
        else {
          timer = setTimeout(expire, left);
          timer.unref();
        }
      }
      return new Promise<T>((resolve, reject) => {
        if (expired) {
          // Already past the deadline: only a result at hand in this turn is used (an LRU hit, an in-memory lookup).
          void Promise.race([work, Promise.resolve().then(() => Promise.reject(SemanticUnavailable.of('timeout', stage)))]).then(resolve, reject);
          return;
        }
        const give = (): void => {
          waiting.delete(give);
          reject(SemanticUnavailable.of('timeout', stage));
        };
        waiting.add(give);
        work.then(
          (v) => { if (waiting.delete(give)) { settle(); resolve(v); } },
          (err: unknown) => { if (waiting.delete(give)) { settle(); reject(err); } },
        );
      });
    },
    ready() {
      if (outcome === undefined) record({ state: 'ready', budget_ms: maxWaitMs });
    },
    degrade(reason, stage) {
      if (outcome?.state !== 'degraded') record({ state: 'degraded', reason, stage, budget_ms: maxWaitMs });
    },
    get degraded() {
      return outcome?.state === 'degraded';
    },
  };
}
