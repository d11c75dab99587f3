/**
 * RE2 searches: the engine, loaded on first use, and a bound on the searching one piece of work may do. Patterns written
 * by callers (a `response_format` schema) or by operators (a rule's `matches`) run on re2js, a JavaScript port of RE2: an
 * automaton, no backtracking, a search linear in the text's length whatever the pattern. Importing it costs about 3 MB and
 * 15 ms, paid only by a gateway whose rules or cascade checks search (always through `re2js()`, the package's CommonJS
 * build, so there is one copy of it). Linear is not free: re2js searches on its lazy DFA (~5–15 ns a
 * character) unless the pattern's automaton outgrows the DFA's cache, then on its NFA, which steps through the compiled
 * program for each character: up to ~21 ns a character for each instruction (measured: `a[a-g]{20}$` 600 ns a character,
 * `a[a-g]{1000}$` 5.9–20 µs a character), so a 4 MB string still held the event loop (`^.*$` 237 ms). A search is charged
 * (text length + 1) × (program size + 5) units, the program size being RE2's (a counted repetition is that many copies),
 * against the budget `withPatternBudget` sets; one over it throws PatternBudgetExceeded instead of running, and so does
 * every later search under that budget (a caller's many long texts cannot be searched past it a small one at a time, nor
 * have a search that still fits decide for the ones that did not).
 */
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';

const require = createRequire(import.meta.url);
let engine: typeof RE2JS | undefined;

/** The RE2JS class (the package is loaded on the first call). */
export function re2js(): typeof RE2JS {
  return (engine ??= (require('re2js') as typeof import('re2js')).RE2JS);
}

let remaining = Number.POSITIVE_INFINITY;

export class PatternBudgetExceeded extends Error {
  constructor() {
    super('pattern budget exceeded');
  }
}

/** Runs `fn` with `units` of pattern searching to spend. */
export function withPatternBudget<T>(units: number, fn: () => T): T {
  const outer = remaining;
  remaining = units;
  try {
    return fn();
  } finally {
    remaining = outer;
  }
}

/** Searches `text` with `re2` (program size `size`), charged to the budget in force. */
export function chargedTest(re2: RE2JS, size: number, text: string): boolean {
  const cost = (text.length + 1) * (size + 5);
  if (cost > remaining) {
    remaining = 0;
    throw new PatternBudgetExceeded();
  }
  remaining -= cost;
  return re2.test(text);
}
