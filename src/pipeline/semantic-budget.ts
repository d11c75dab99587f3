/**
 * The latency budget of a request's semantic work (`semantic.max_wait_ms`). The embedding, the intent that derives from it
 * and the cache lookup share one deadline, counted from the first of them to start. A wait that would pass the deadline is
 * abandoned and the request goes on without that result — degraded, never failed: the rules see intent "unavailable" and
 * semantic_ready false, the cache is skipped for overload. The outcome is recorded once per request in `ctx.facts.semantic`
 * and the `x-switchyard-semantic` reply header, where logs, metrics, explain and the dashboard read it.
 */
import type { RequestContext } from './context.js';
import { RequestLocal } from './request-local.js';

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

const budgets = new RequestLocal<SemanticBudget>('semantic budget');

/** The request's budget (one per request; `maxWaitMs` is read when it is first asked for). */
export function budgetOf(ctx: RequestContext, maxWaitMs: number): SemanticBudget {
  let b = budgets.get(ctx);
  if (b === undefined) {
    b = new RequestBudget(ctx, maxWaitMs);
    budgets.set(ctx, b);
  }
  return b;
}

/**
 * The reason a budget's signal is aborted with: one shared value, since `abort()` without a reason makes a DOMException
 * (and its stack trace) for every request whose budget runs out. Nothing reads it; listeners only let their text go.
 */
const BUDGET_SPENT = SemanticUnavailable.of('timeout', 'embed');

/**
 * One request's budget: a single object (a degraded request under overload makes one and nothing else). The abort
 * controller is made on first use of `signal`; the deadline timer is armed after the current turn's already-settled
 * results are taken, so a wait that ends at once (a busy refusal, an LRU hit) arms none.
 */
class RequestBudget implements SemanticBudget {
  private controller: AbortController | undefined;
  private deadline: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private arming = false;
  private expired = false;
  private outcome: SemanticOutcome | undefined;
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly ctx: RequestContext,
    private readonly maxWaitMs: number,
  ) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.expired) this.controller.abort(BUDGET_SPENT);
    return this.controller.signal;
  }

  remainingMs(): number {
    if (this.expired) return 0;
    return this.deadline === undefined ? this.maxWaitMs : Math.max(0, this.deadline - performance.now());
  }

  within<T>(work: Promise<T>, stage: DegradeStage): Promise<T> {
    this.deadline ??= performance.now() + this.maxWaitMs;
    if (!this.expired && this.timer === undefined && this.deadline - performance.now() <= 0) this.expire();
    return new Promise<T>((resolve, reject) => {
      if (this.expired) {
        // Already past the deadline: only a result at hand in this turn is used (an LRU hit, an in-memory lookup).
        void Promise.race([work, Promise.resolve().then(() => Promise.reject(SemanticUnavailable.of('timeout', stage)))]).then(resolve, reject);
        return;
      }
      const give = (): void => {
        this.waiting.delete(give);
        reject(SemanticUnavailable.of('timeout', stage));
      };
      this.waiting.add(give);
      work.then(
        (v) => { if (this.waiting.delete(give)) { this.settle(); resolve(v); } },
        (err: unknown) => { if (this.waiting.delete(give)) { this.settle(); reject(err); } },
      );
      this.arm();
    });
  }

  ready(): void {
    if (this.outcome === undefined) this.record({ state: 'ready', budget_ms: this.maxWaitMs });
  }

  degrade(reason: DegradeReason, stage: DegradeStage): void {
    if (this.outcome?.state !== 'degraded') this.record({ state: 'degraded', reason, stage, budget_ms: this.maxWaitMs });
  }

  get degraded(): boolean {
    return this.outcome?.state === 'degraded';
  }

  /**
   * Arms the deadline timer for what is left of the budget once the reactions queued so far have run: a result that had
   * already arrived settles its wait first (the reaction was queued before this check), and then no timer is needed.
   */
  private arm(): void {
    if (this.arming || this.timer !== undefined) return;
    this.arming = true;
    queueMicrotask(() => {
      this.arming = false;
      if (this.expired || this.timer !== undefined || this.waiting.size === 0) return;
      const left = this.deadline! - performance.now();
      if (left <= 0) this.expire();
      else {
        this.timer = setTimeout(() => this.expire(), left);
        this.timer.unref();
      }
    });
  }

  // At the deadline, results that have already arrived (I/O callbacks queued behind the timer in this loop iteration)
  // are still taken: the give-up runs after the loop's poll phase.
  private expire(): void {
    this.timer = undefined;
    this.expired = true;
    setImmediate(() => {
      this.controller?.abort(BUDGET_SPENT);
      for (const give of [...this.waiting]) give();
    });
  }

  private settle(): void {
    if (this.waiting.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      // A later wait re-arms the timer for what is left of the budget.
    }
  }

  private record(o: SemanticOutcome): void {
    this.outcome = o;
    this.ctx.facts[SEMANTIC_FACT] = o;
    this.ctx.replyHeaders[SEMANTIC_HEADER] = o.state;
  }
}
