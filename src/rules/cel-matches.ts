/**
 * CEL's `matches` on RE2, as the CEL specification defines it. The CEL library runs `text.matches(pattern)` with
 * JavaScript's backtracking engine, compiling the pattern again on every call: an operator's pattern such as
 * `^(\w+\s?)*$` against a header or body value a caller chose (`aaaa…!`) would hold the event loop for seconds on one
 * request, every tenant's requests behind it. Here each `matches` call of a compiled expression runs on re2js (an
 * automaton: a search linear in the text's length whatever the pattern), each pattern compiled once, and a rule's
 * searches share a budget (src/util/re2.ts): one evaluation of a rule may search at most RULE_PATTERN_WORK
 * units of (text length + 1) × (program size + 5); past it the evaluation fails (the rule does not match, and the error
 * is reported like any evaluation error). RE2 syntax has no backreferences or lookarounds: a literal pattern that uses
 * them is refused when the rule is loaded (./cel-limits.ts), a pattern computed at run time fails that evaluation.
 */
import type { RE2JS } from 're2js';
import type { ASTNode } from '@marcbachmann/cel-js';
import { chargedTest, PatternBudgetExceeded, re2js, withPatternBudget } from '../util/re2.js';

/**
 * Pattern searching one evaluation of one rule may do: at most ~20 ms of re2js on its NFA (a pattern of 45 instructions
 * against 20,000 characters), a header of 16 KB against a pattern of up to ~55 instructions.
 */
export const RULE_PATTERN_WORK = 1_000_000;

interface Compiled {
  re2: RE2JS;
  size: number;
}

/** Compiled patterns, by source (literal ones from rules, and any computed at run time; cleared if it ever fills). */
const compiled = new Map<string, Compiled>();
const MAX_COMPILED = 512;

/** The pattern compiled for RE2; throws (with RE2's reason) when it is not a valid RE2 pattern. */
export function compileRe2(pattern: string): Compiled {
  let c = compiled.get(pattern);
  if (c === undefined) {
    const re2 = re2js().compile(pattern);
    c = { re2, size: re2.programSize() };
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(pattern, c);
  }
  return c;
}

/** `text.matches(pattern)`: whether the pattern matches any part of the text, charged to the rule's budget. */
function linearMatches(text: string, pattern: string): boolean {
  let c: Compiled;
  try {
    c = compileRe2(pattern);
  } catch (err) {
    throw new Error(`matches: invalid RE2 pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
  try {
    return chargedTest(c.re2, c.size, text);
  } catch (err) {
    if (!(err instanceof PatternBudgetExceeded)) throw err;
    throw new Error(`matches: a text of ${text.length} characters is too long to search with this pattern within the rule's budget (${RULE_PATTERN_WORK} units of (text length + 1) × (pattern size + 5))`);
  }
}

/** The call node of the CEL library after type-checking: what it runs with the evaluated receiver and arguments. */
type CheckedCall = ASTNode & { handle?: (args: unknown, ev: unknown, ast: unknown) => unknown };

/**
 * Points every `x.matches(p)` call of a checked expression at the RE2 search; returns how many there are. Anything but
 * two strings (a receiver of another type through `dyn`) keeps the library's own handling, which reports the overload
 * error.
 */
export function useLinearMatches(node: ASTNode, children: (n: ASTNode) => ASTNode[]): number {
  let n = 0;
  if (node.op === 'rcall' && node.args[0] === 'matches' && node.args[2].length === 1) {
    const call = node as CheckedCall;
    const own = call.handle;
    if (own === undefined) throw new Error('the CEL library no longer keeps a checked call\'s handler where expected');
    call.handle = (args, ev, ast) => {
      if (Array.isArray(args) && typeof args[0] === 'string' && typeof args[1] === 'string') return linearMatches(args[0], args[1]);
      return own(args, ev, ast);
    };
    n++;
  }
  for (const c of children(node)) n += useLinearMatches(c, children);
  return n;
}

/** `program` run with a rule's pattern budget for each evaluation. */
export function withRuleBudget<A, R>(program: (activation: A) => R): (activation: A) => R {
  return (activation) => withPatternBudget(RULE_PATTERN_WORK, () => program(activation));
}
