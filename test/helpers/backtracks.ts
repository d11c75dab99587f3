/**
 * Regular expressions with a bound on their work: a copy of a pattern that finds no match once one search has backtracked
 * more than `limit` times (V8's own per-regexp limit, reached through its natives syntax). A test then states what a
 * pattern may cost on a text as a number of backtracks, which does not depend on the machine or its load.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--allow-natives-syntax');
// Compiled after the flag is set, so the natives syntax is accepted here (and nowhere else in the test's own code).
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const limited = new Function('source', 'flags', 'limit', 'return %NewRegExpWithBacktrackLimit(source, flags, limit)') as
  (source: string, flags: string, limit: number) => RegExp;

/** `re` (same source and flags) giving up, as if nothing matched, past `limit` backtracks in one search. */
export function withBacktrackLimit(re: RegExp, limit: number): RegExp {
  return limited(re.source, re.flags, limit);
}
