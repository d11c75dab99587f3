/**
 * The e-mail address scanner. As one pattern searched from every character, each word of a text was read as a possible
 * address start until a character that cannot be in one (45 ms per MB of plain prose), and the domain after an `@` was
 * read again from each start of the part before it that a `%` made possible: `a%a%…a@` and a long domain that no
 * top-level name ends cost 0.5 s per MB. Here the search goes from `@` to `@`: the part before each is read back once
 * (at most 64 characters) and its domain once. The spans found are the pattern's. Pure.
 */

/** The domain from an `@`: labels of letters, digits and inner dashes, each ending in a dot, then a top-level name. */
const DOMAIN = /@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/y;
/** Longest part before the `@`. */
const MAX_LOCAL = 64;

const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
/** A character of the part before the `@`: letters, digits and `. _ % + -`. */
const isLocal = (c: number): boolean => isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
/** A character an address may not follow: `\w` and `. + -` (NaN before the text: none). */
const joinsBefore = (c: number): boolean => isAlnum(c) || c === 95 || c === 46 || c === 43 || c === 45;

/**
 * Each e-mail address, as `fn(start, end)`, left to right: 1-64 characters (the first a letter or digit, not after a
 * letter, digit or `_ . + -`), `@`, the domain. Where several starts are possible, the leftmost, as the pattern's search
 * found it. Returns the characters read besides the domains' (for tests: at most about twice the text).
 */
export function eachEmail(text: string, fn: (start: number, end: number) => void): number {
  let reads = 0;
  let from = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = -1;
    for (let i = at - 1; i >= from && at - i <= MAX_LOCAL; i--) {
      const c = text.charCodeAt(i);
      reads += 2;
      if (!isLocal(c)) break;
      if (isAlnum(c) && !joinsBefore(text.charCodeAt(i - 1))) start = i;
    }
    if (start < 0) continue;
    DOMAIN.lastIndex = at;
    const m = DOMAIN.exec(text);
    if (m === null) continue;
    from = at + m[0].length;
    fn(start, from);
  }
  return reads;
}
