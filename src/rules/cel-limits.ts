/**
 * Checks a parsed expression for what would only fail, or hang, once requests run it: a `matches` pattern given as a
 * literal that is not a valid RE2 pattern (./cel-matches.ts; it would throw on every request, so the rule could never
 * match), and comprehensions (`all`, `exists`, `exists_one`, `map`, `filter`) nested so deep that one evaluation would run
 * their bodies millions of times and hold the event loop for every request. A literal list or map counts its entries; any other range (a
 * variable such as `headers`, a value in `params`) counts as UNKNOWN_RANGE elements, since a caller decides its size.
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import { compileRe2 } from './cel-matches.js';

/** Most comprehension-body evaluations one expression may need. */
export const MAX_ITERATIONS = 100_000;
/** Elements assumed for a range that is not a literal list. */
export const UNKNOWN_RANGE = 1_000;

const MACROS: ReadonlySet<string> = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

export interface LimitProblem {
  message: string;
  /** Offset in the expression. */
  offset: number;
}

/** The direct sub-expressions of a node. */
export function childrenOf(node: ASTNode): ASTNode[] {
  switch (node.op) {
    case 'id':
    case 'value':
      return [];
    case '.':
    case '.?':
      return [node.args[0]];
    case 'call':
      return node.args[1];
    case 'rcall':
      return [node.args[1], ...node.args[2]];
    case 'list':
      return node.args;
    case 'map':
      return node.args.flatMap(([k, v]) => [k, v]);
    case '!_':
    case '-_':
      return [node.args];
    default:
      return node.args as ASTNode[];
  }
}

/** The literal pattern of a `matches` call, when it is one. */
function literalPattern(node: ASTNode): ASTNode | undefined {
  const arg = node.op === 'rcall' && node.args[0] === 'matches' ? node.args[2][0] : undefined;
  return arg?.op === 'value' && typeof arg.args === 'string' ? arg : undefined;
}

/** Body evaluations of the subtree, or a problem. */
function iterations(node: ASTNode): number | LimitProblem {
  const pattern = literalPattern(node);
  if (pattern) {
    try {
      compileRe2(pattern.args as string);
    } catch (err) {
      return { message: `invalid regular expression: ${(err as Error).message}`, offset: pattern.start };
    }
  }
  const kids = childrenOf(node);
  const counts: number[] = [];
  for (const k of kids) {
    const n = iterations(k);
    if (typeof n !== 'number') return n;
    counts.push(n);
  }
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  if (node.op !== 'rcall' || !MACROS.has(node.args[0]) || node.args[2].length < 2 || node.args[2][0]!.op !== 'id') return sum(counts);
  const range = node.args[1];
  const size = range.op === 'list' || range.op === 'map' ? range.args.length : UNKNOWN_RANGE;
  // counts: [range, iteration variable, body...]
  const total = counts[0]! + size * (1 + sum(counts.slice(2)));
  if (total > MAX_ITERATIONS) {
    return {
      message: `too expensive: its comprehensions may run their bodies about ${total.toPrecision(2)} times per request (limit ${MAX_ITERATIONS}; a range that is not a literal list counts as ${UNKNOWN_RANGE})`,
      offset: node.start,
    };
  }
  return total;
}

/** The first problem found, or undefined. */
export function limitProblem(ast: ASTNode): LimitProblem | undefined {
  const r = iterations(ast);
  return typeof r === 'number' ? undefined : r;
}
