/**
 * CEL compilation against the variable catalogue. One shared Environment declares every catalogue variable with its CEL
 * type; an expression is parsed once, type-checked (unknown variables, operator/type mismatches, non-bool results are
 * rejected with a position; so are invalid literal regexes and runaway comprehensions, see ./cel-limits.ts) and kept as
 * a callable program together with the catalogue variables it references. Its `matches` calls run on RE2 within a
 * budget (./cel-matches.ts).
 */
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import { childrenOf, limitProblem } from './cel-limits.js';
import { useLinearMatches, withRuleBudget } from './cel-matches.js';
import { VARIABLES, VARIABLES_BY_NAME } from './variables.js';

/** A compiled expression: call it with an activation; it returns the CEL value (or throws an EvaluationError). */
export type CelProgram = (activation: Record<string, unknown>) => unknown;

export interface CompiledExpression {
  program: CelProgram;
  /** Catalogue variables the expression reads. */
  references: ReadonlySet<string>;
}

export interface CelProblem {
  message: string;
  /** 1-based line and column in the expression. */
  line: number;
  column: number;
}

/**
 * Environment options. Mixed list/map literals are allowed (typed list<dyn> / map<K, dyn>) as the CEL spec allows them;
 * undeclared variables are errors at check time.
 */
export const CEL_OPTIONS = Object.freeze({ unlistedVariablesAreDyn: false, homogeneousAggregateLiterals: false });

let shared: Environment | undefined;

/** The environment with every catalogue variable declared (built once). */
export function celEnvironment(): Environment {
  if (!shared) {
    const env = new Environment({ ...CEL_OPTIONS });
    for (const v of VARIABLES) env.registerVariable(v.name, v.type, { description: v.description });
    shared = env;
  }
  return shared;
}

function position(expr: string, offset: number): { line: number; column: number } {
  let line = 1;
  let col = 1;
  const end = Math.max(0, Math.min(offset, expr.length));
  for (let i = 0; i < end; i++) {
    if (expr.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return { line, column: col };
}

function problemOf(expr: string, err: unknown): CelProblem {
  const e = err as { summary?: unknown; message?: unknown; range?: { start?: number } };
  const summary = typeof e.summary === 'string' ? e.summary : String(e.message ?? err).split('\n')[0]!;
  return { message: summary, ...position(expr, e.range?.start ?? 0) };
}

function collectReferences(node: ASTNode, out: Set<string>): void {
  if (node.op === 'id') {
    if (VARIABLES_BY_NAME.has(node.args)) out.add(node.args);
    return;
  }
  for (const c of childrenOf(node)) collectReferences(c, out);
}

/** Compiles and type-checks one expression; it must be of type bool. */
export function compileExpression(expr: string): { ok: true; compiled: CompiledExpression } | { ok: false; problem: CelProblem } {
  const env = celEnvironment();
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = env.parse(expr);
  } catch (err) {
    return { ok: false, problem: problemOf(expr, err) };
  }
  const checked = parsed.check();
  if (!checked.valid) return { ok: false, problem: problemOf(expr, checked.error) };
  if (checked.type !== 'bool') {
    return {
      ok: false,
      problem: { message: `expression must be of type bool, found ${checked.type ?? 'unknown'}`, line: 1, column: 1 },
    };
  }
  const limit = limitProblem(parsed.ast);
  if (limit) return { ok: false, problem: { message: limit.message, ...position(expr, limit.offset) } };
  const references = new Set<string>();
  collectReferences(parsed.ast, references);
  const program = parsed as CelProgram;
  return { ok: true, compiled: { program: useLinearMatches(parsed.ast, childrenOf) > 0 ? withRuleBudget(program) : program, references } };
}

/** Short text of an evaluation error, without the source excerpt. */
export function evaluationMessage(err: unknown): string {
  const e = err as { summary?: unknown; message?: unknown };
  if (typeof e.summary === 'string') return e.summary;
  return String(e.message ?? err).split('\n')[0]!;
}
