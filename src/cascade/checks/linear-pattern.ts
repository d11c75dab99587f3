/**
 * Linear-time `pattern` / `patternProperties` for the JSON check. The schemas are the callers' and the texts are the
 * models' answers, so the usual backtracking engine would let a request such as `{"pattern": "^(a+)+$"}` with an answer
 * "aaa…ab" hold the event loop for minutes. Each pattern is instead compiled for V8's linear-time engine (the `l` flag,
 * behind `--enable-experimental-regexp-engine`): a search costs at most (text length × pattern size) steps, whatever the
 * pattern. A pattern that engine cannot run makes the schema fail to compile, which the check already reports as a warning.
 *
 * The linear engine has no `u` flag, while JSON Schema patterns are unicode patterns (as Ajv compiles them). A pattern
 * is first checked as a unicode pattern (its syntax errors are Ajv's), then run without `u` only when that means the same:
 * it may not use `\p{…}`, `\P{…}`, `\u{…}` or a character outside the Basic Multilingual Plane (written or escaped as
 * surrogates). The text is searched as is when it has no surrogate pair — then both modes agree — and otherwise with each
 * pair replaced by one U+FFFF, so that `.`, negated classes and counts still see one character per code point.
 */
import { setFlagsFromString } from 'node:v8';

/** What Ajv's `code.regExp` option takes: a constructor-like function with the source of its call for standalone code. */
export interface LinearRegExpEngine {
  (source: string, flags: string): { test(text: string): boolean; toString(): string; readonly regExp: RegExp };
  code: string;
}

let enabled = false;

function enable(): void {
  if (enabled) return;
  // Only makes the `l` flag known; every other regular expression keeps the usual engine.
  setFlagsFromString('--enable-experimental-regexp-engine');
  enabled = true;
}

/**
 * The linear engine is an interpreter: ~250 ns a character, plus ~50 ns a character for each character of the pattern.
 * A search is charged (text length + 1) × (pattern length + 5) units against the budget `withPatternBudget` sets; one
 * over it throws PatternBudgetExceeded instead of running.
 */
let remaining = Number.POSITIVE_INFINITY;

export class PatternBudgetExceeded extends Error {
  constructor() {
    super('pattern budget exceeded');
  }
}

/** Runs `fn` with `units` of pattern searching to spend (see `remaining`). */
export function withPatternBudget<T>(units: number, fn: () => T): T {
  const outer = remaining;
  remaining = units;
  try {
    return fn();
  } finally {
    remaining = outer;
  }
}

function charge(text: string, source: string): void {
  const cost = (text.length + 1) * (source.length + 5);
  if (cost > remaining) throw new PatternBudgetExceeded();
  remaining -= cost;
}

const HEX4 = /^[0-9a-fA-F]{4}$/;
const SURROGATE = /[\uD800-\uDFFF]/;
const PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** Why `source` (a valid unicode pattern) would mean something else without the `u` flag, if it would. */
function unicodeOnly(source: string): string | undefined {
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return 'a character outside the Basic Multilingual Plane';
    if (c !== 0x5c /* \ */) continue;
    const next = source[i + 1];
    if (next === 'p' || next === 'P') return `\\${next}{…}`;
    if (next === 'u') {
      if (source[i + 2] === '{') return '\\u{…}';
      const hex = source.slice(i + 2, i + 6);
      if (HEX4.test(hex) && parseInt(hex, 16) >= 0xd800 && parseInt(hex, 16) <= 0xdfff) return 'a surrogate escape';
    }
    i++; // the escaped character is not an escape itself
  }
  return undefined;
}

/**
 * Compiles a caller's pattern for the linear-time engine; throws (a SyntaxError, as `new RegExp` does) when it is not a
 * valid unicode pattern or cannot be run in linear time with the same meaning.
 */
export const linearRegExp: LinearRegExpEngine = Object.assign(
  (source: string, flags: string) => {
    if (flags !== '' && flags !== 'u') throw new SyntaxError(`unexpected pattern flags "${flags}"`);
    // The unicode pattern's syntax (parsed only, never run).
    if (flags === 'u') new RegExp(source, 'u');
    const why = flags === 'u' ? unicodeOnly(source) : undefined;
    if (why) throw new SyntaxError(`pattern /${source}/ cannot be checked in linear time: it uses ${why}`);
    enable();
    let re: RegExp;
    try {
      re = new RegExp(source, 'l');
    } catch {
      throw new SyntaxError(
        `pattern /${source}/ cannot be checked in linear time (backreferences, lookarounds and repetition counts above 16 cannot)`,
      );
    }
    const key = `/${source}/${flags}`;
    return {
      regExp: re,
      test: (text: string) => {
        charge(text, source);
        return re.test(flags === 'u' && SURROGATE.test(text) ? text.replace(PAIR, '\uFFFF') : text);
      },
      // Ajv shares compiled patterns by this text: it must tell patterns apart.
      toString: () => key,
    };
  },
  { code: 'linearRegExp' },
);
