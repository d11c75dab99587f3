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
 * Each search is charged to the pattern budget in force (src/util/re2.ts).
 */
import type { RE2JS } from 're2js';
import { chargedTest, re2js } from '../../util/re2.js';

/** What Ajv's `code.regExp` option takes: a constructor-like function with the source of its call for standalone code. */
export interface LinearRegExpEngine {
  (source: string, flags: string): { test(text: string): boolean; toString(): string; readonly re2: RE2JS };
  code: string;
}

/** ECMAScript's `\s`: WhiteSpace and LineTerminator (RE2's `\s` is `[\t\n\f\r ]`). */
const SPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
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
      re2 = re2js().compile(re2js().translateRegExp(toRe2(source)));
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
      test: (text: string) => chargedTest(re2, size, text),
      // Ajv shares compiled patterns by this text: it must tell patterns apart.
      toString: () => key,
    };
  },
  { code: 'linearRegExp' },
);
