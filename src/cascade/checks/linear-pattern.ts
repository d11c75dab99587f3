/**
 * Linear-time `pattern` / `patternProperties` for the JSON check. The schemas are the callers' and the texts are the
 * models' answers, so the usual backtracking engine would let a request such as `{"pattern": "^(a+)+$"}` with an answer
 * "aaa…ab" hold the event loop for minutes. Each pattern is instead compiled for re2js, a JavaScript port of RE2: an
 * automaton, no backtracking, a search linear in the text's length whatever the pattern. A pattern RE2 cannot run makes
 * the schema fail to compile, which the check already reports as a warning.
 *
 * JSON Schema patterns are ECMA-262 unicode patterns (as Ajv compiles them). A pattern is first checked as one (its
 * syntax errors are Ajv's), then written in RE2's syntax with the same meaning: `.`, `\s` and `\S` are spelled out
 * (RE2's `.` also matches `\r`, U+2028 and U+2029, its `\s` is ASCII only), `[]` and `[^]` become the empty and the full
 * class, `\uXXXX`, `\u{…}`, `\cX` and `(?<name>` are translated by re2js. Both engines search a string by code point, so
 * astral characters are one character each. Refused (cannot compile): backreferences, lookaheads and lookbehinds,
 * repetition counts above 1000, `\p{…}` other than RE2's short names (`\p{L}`, `\p{Lu}`, `\p{Alphabetic}`; not `\p{Letter}`,
 * `\p{Script=Greek}` or `\p{gc=L}`), surrogates written as escapes, and `\S` in a class with other members than `\s`.
 */
import { RE2JS } from 're2js';

/** What Ajv's `code.regExp` option takes: a constructor-like function with the source of its call for standalone code. */
export interface LinearRegExpEngine {
  (source: string, flags: string): { test(text: string): boolean; toString(): string; readonly re2: RE2JS };
  code: string;
}

/** ECMAScript's `\s`: WhiteSpace and LineTerminator (RE2's `\s` is `[\t\n\f\r ]`). */
const SPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/**
 * re2js runs a search on its lazy DFA (~5–15 ns a character) unless the pattern's automaton outgrows the DFA's cache,
 * then on its NFA, which steps through the compiled program for each character: up to ~21 ns a character for each
 * instruction (measured: `a[a-g]{20}$` 600 ns a character, `a[a-g]{1000}$` 5.9–20 µs a character). Linear, but a 4 MB
 * string still held the event loop (`^.*$` 237 ms). A search is charged (text length + 1) × (program size + 5) units,
 * the program size being RE2's (a counted repetition is that many copies), against the budget `withPatternBudget` sets;
 * one over it throws PatternBudgetExceeded instead of running.
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

function charge(text: string, size: number): void {
  const cost = (text.length + 1) * (size + 5);
  if (cost > remaining) throw new PatternBudgetExceeded();
  remaining -= cost;
}

const ANY = '[\\u{0}-\\u{10FFFF}]';
const HEX4 = /^[0-9a-fA-F]{4}$/;

class Refused extends Error {}

/** `source` (a valid unicode pattern) with `.`, `\s`, `\S`, `[]` and `[^]` spelled as RE2 reads them as ECMAScript does. */
function toRe2(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1];
      if (next === 's') out += `[${SPACE}]`;
      else if (next === 'S') out += `[^${SPACE}]`;
      else if (next === 'k') throw new Refused('a backreference');
      else {
        if (next === 'u' && HEX4.test(source.slice(i + 2, i + 6))) {
          const code = parseInt(source.slice(i + 2, i + 6), 16);
          if (code >= 0xd800 && code <= 0xdfff) throw new Refused('a surrogate escape');
        }
        out += c + next;
      }
      i += 2;
    } else if (c === '.') {
      out += '[^\\n\\r\\u2028\\u2029]';
      i++;
    } else if (c === '[') {
      // a class: up to its first unescaped `]` (a unicode pattern's classes do not nest)
      const negated = source[i + 1] === '^';
      let j = negated ? i + 2 : i + 1;
      let body = '';
      let spaces = false;
      let nonSpaces = false;
      while (source[j] !== ']') {
        if (source[j] === '\\') {
          const next = source[j + 1];
          if (next === 's') spaces = true;
          else if (next === 'S') nonSpaces = true;
          else body += `\\${next}`;
          j += 2;
        } else body += source[j++];
      }
      i = j + 1;
      if (nonSpaces && !spaces && body === '') out += negated ? `[${SPACE}]` : `[^${SPACE}]`;
      else if (nonSpaces) {
        if (!(spaces && body === '')) throw new Refused('\\S in a class with other members');
        out += negated ? `[^${ANY.slice(1)}` : ANY;
      } else if (body === '' && !spaces) out += negated ? ANY : `[^${ANY.slice(1)}`;
      else out += `[${negated ? '^' : ''}${body}${spaces ? SPACE : ''}]`;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * Compiles a caller's pattern for re2js; throws (a SyntaxError, as `new RegExp` does) when it is not a valid unicode
 * pattern or RE2 cannot run it with the same meaning.
 */
export const linearRegExp: LinearRegExpEngine = Object.assign(
  (source: string, flags: string) => {
    if (flags !== '' && flags !== 'u') throw new SyntaxError(`unexpected pattern flags "${flags}"`);
    // The pattern's syntax as ECMAScript reads it (parsed only, never run).
    new RegExp(source, flags);
    let re2: RE2JS;
    try {
      re2 = RE2JS.compile(RE2JS.translateRegExp(toRe2(source)));
    } catch (err) {
      const why = err instanceof Refused ? `it uses ${err.message}` : (err as Error).message;
      throw new SyntaxError(
        `pattern /${source}/ cannot be checked in linear time (${why}; backreferences, lookarounds and repetition counts above 1000 cannot)`,
      );
    }
    const key = `/${source}/${flags}`;
    const size = re2.programSize();
    return {
      re2,
      test: (text: string) => {
        charge(text, size);
        return re2.test(text);
      },
      // Ajv shares compiled patterns by this text: it must tell patterns apart.
      toString: () => key,
    };
  },
  { code: 'linearRegExp' },
);
