/**
 * Runtime failures of rule expressions (a missing map key, a division by zero...). The failing rule counts as not
 * matching; every failure is counted (per rule, and through an optional metrics hook) and logged at most once per interval
 * per rule, without the request's variable values.
 */
import type { Logger } from 'pino';
import { evaluationMessage } from './cel.js';
import type { CompiledRule } from './compile.js';

export interface RuleErrorReporterOptions {
  logger?: Logger;
  /** Called on every failure, e.g. to increment a Prometheus counter labelled by rule. */
  onError?: (rule: string, message: string) => void;
  /** Minimum time between two log lines for the same rule (default 60 s). */
  logIntervalMs?: number;
  now?: () => number;
}

export class RuleErrorReporter {
  private readonly counts = new Map<string, number>();
  private readonly lastLogged = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();
  private readonly interval: number;
  private readonly now: () => number;

  constructor(private readonly opts: RuleErrorReporterOptions = {}) {
    this.interval = opts.logIntervalMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** Pass as `EvaluateOptions.onError`. */
  readonly report = (rule: CompiledRule, err: unknown): void => {
    const name = rule.name;
    const message = evaluationMessage(err);
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    this.opts.onError?.(name, message);
    const t = this.now();
    const last = this.lastLogged.get(name);
    if (last !== undefined && t - last < this.interval) {
      this.suppressed.set(name, (this.suppressed.get(name) ?? 0) + 1);
      return;
    }
    this.lastLogged.set(name, t);
    const suppressed = this.suppressed.get(name) ?? 0;
    this.suppressed.delete(name);
    this.opts.logger?.warn({ rule: name, error: message, suppressed }, 'routing rule failed at run time; treated as no match');
  };

  /** Failures per rule since start. */
  errorCounts(): ReadonlyMap<string, number> {
    return this.counts;
  }
}
