/**
 * Scanners for the two PII layouts made of runs of digits in groups: international phone numbers and payment cards. As
 * patterns, each run could be split into groups in many ways and, when the text after the run ruled out a match, every
 * split was tried in turn: `+` and 33 digits then a letter cost about 20 µs per character (21 s for a 1 MB string).
 * Here a run is read once and only its length matters: the number of groups a run of n digits can be read as is any
 * count from ⌈n / 5⌉ (or 7) to n, so whether a layout fits is a sum over the runs. The spans found are those the patterns
 * found; each function returns the number of characters it read, which is linear in the text. Pure.
 */

const SPACE = 32;
const PLUS = 43;
const DASH = 45;
const DOT = 46;
const OPEN = 40;
const CLOSE = 41;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** `\w`: ASCII letters, digits and `_`. Past the end of the text, `charCodeAt` is NaN and nothing matches. */
const isWord = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isPhoneSep = (c: number): boolean => c === SPACE || c === DOT || c === DASH;

/** The text, counting the characters read. */
class Reader {
  reads = 0;
  constructor(readonly text: string) {}
  at(i: number): number {
    this.reads++;
    return this.text.charCodeAt(i);
  }
  /** End of the run of digits from `i`; a run longer than `max` ends, as far as the caller can tell, at `i + max + 1`. */
  digitsEnd(i: number, max: number): number {
    let j = i;
    while (j - i <= max && isDigit(this.at(j))) j++;
    return j;
  }
}

/** Most groups of digits after the country code, and most digits in one group. */
const PHONE_GROUPS = 6;
const PHONE_GROUP_DIGITS = 5;

/**
 * The end of the furthest run, from `pos` on, that can close a phone number's groups: runs follow one another across a
 * single space, dot or dash (or directly, after an area code), and `lo`-`hi` groups have been read before `pos`. Each run
 * of n digits adds ⌈n / 5⌉ to `lo` and n to `hi`; a run may end the number when the range meets 2-6 and no letter,
 * digit or `_` follows it. -1 if none can.
 */
function phoneGroupsEnd(r: Reader, pos: number, lo: number, hi: number): number {
  let best = -1;
  for (;;) {
    let start = pos;
    if (!isDigit(r.at(start))) {
      if (!isPhoneSep(r.at(start)) || !isDigit(r.at(start + 1))) return best;
      start++;
    }
    const end = r.digitsEnd(start, PHONE_GROUPS * PHONE_GROUP_DIGITS);
    lo += Math.ceil((end - start) / PHONE_GROUP_DIGITS);
    hi += end - start;
    if (lo > PHONE_GROUPS) return best;
    if (hi >= 2 && !isWord(r.at(end))) best = end;
    pos = end;
  }
}

/**
 * The end of the phone number at the `+` at `plus`: 1-3 digits of country code, an optional area code in parentheses
 * (1-4 digits, after the whole first run and an optional separator), then 2-6 groups of 1-5 digits, each after an
 * optional space, dot or dash, not followed by a letter, digit or `_`. The longest such number, as the pattern's
 * greedy search found first; -1 if none.
 */
function intlPhoneEnd(r: Reader, plus: number): number {
  const first = plus + 1;
  const firstEnd = r.digitsEnd(first, 3 + PHONE_GROUPS * PHONE_GROUP_DIGITS);
  const n = firstEnd - first;
  if (n === 0 || n > 3 + PHONE_GROUPS * PHONE_GROUP_DIGITS) return -1;
  if (n <= 3) {
    let open = firstEnd;
    if (isPhoneSep(r.at(open)) && r.at(open + 1) === OPEN) open++;
    if (r.at(open) === OPEN) {
      const close = r.digitsEnd(open + 1, 4);
      if (close > open + 1 && close - open - 1 <= 4 && r.at(close) === CLOSE) {
        const end = phoneGroupsEnd(r, close + 1, 0, 0);
        if (end >= 0) return end;
      }
    }
  }
  // No area code: the country code takes 1-3 digits of the first run and the groups read the rest of it (0 to n - 1).
  const lo = Math.ceil(Math.max(0, n - 3) / PHONE_GROUP_DIGITS);
  const hi = n - 1;
  const further = phoneGroupsEnd(r, firstEnd, lo, hi);
  if (further >= 0) return further;
  return hi >= 2 && !isWord(r.at(firstEnd)) ? firstEnd : -1;
}

/**
 * Each international phone number candidate (`+`, country code, optional area code in parentheses, 2-6 groups of
 * digits), as `fn(start, end)`, left to right; not after a letter, digit, `_` or `+`. Returns the characters read.
 */
export function eachIntlPhone(text: string, fn: (start: number, end: number) => void): number {
  const r = new Reader(text);
  for (let plus = text.indexOf('+'); plus >= 0; plus = text.indexOf('+', plus + 1)) {
    if (plus > 0) {
      const before = r.at(plus - 1);
      if (isWord(before) || before === PLUS) continue;
    }
    const end = intlPhoneEnd(r, plus);
    if (end >= 0) fn(plus, end);
  }
  return r.reads;
}

/** Most digits in the first run without separators (4 + 7 + 4 × 7), and in one separated group. */
const CARD_RUN = 39;
const CARD_GROUP_DIGITS = 7;

/** A card number may end where no letter, digit or `_` follows, nor a dot or dash and a digit. */
function cardMayEnd(r: Reader, end: number): boolean {
  const c = r.at(end);
  return !isWord(c) && !((c === DOT || c === DASH) && isDigit(r.at(end + 1)));
}

/**
 * The end of the card number at the run of digits at `start`: 6-39 digits in one run, or 4 digits and then 2-7, and up
 * to 4 more groups of 1-7, all after the same single space or dash. The longest that may end there; -1 if none.
 */
function cardEnd(r: Reader, start: number): number {
  const firstEnd = r.digitsEnd(start, CARD_RUN);
  const n = firstEnd - start;
  if (n < 4) return -1;
  if (n > 4) return n >= 6 && n <= CARD_RUN && cardMayEnd(r, firstEnd) ? firstEnd : -1;
  const sep = r.at(firstEnd);
  if (sep !== SPACE && sep !== DASH) return -1;
  let best = -1;
  let pos = firstEnd;
  for (let groups = 0; groups < 5 && r.at(pos) === sep && isDigit(r.at(pos + 1)); groups++) {
    const end = r.digitsEnd(pos + 1, CARD_GROUP_DIGITS);
    const digits = end - pos - 1;
    if (digits > CARD_GROUP_DIGITS || (groups === 0 && digits < 2)) break;
    if (cardMayEnd(r, end)) best = end;
    pos = end;
  }
  return best;
}

/**
 * Each payment card candidate (12-19 digits in groups split consistently by single spaces or dashes, or not at all;
 * the digit count and checksum are the caller's), as `fn(start, end)`, left to right; not after a letter, digit, `_`,
 * dot or dash. Returns the characters read.
 */
export function eachCard(text: string, fn: (start: number, end: number) => void): number {
  const r = new Reader(text);
  let prev = NaN;
  for (let i = 0; i < text.length; ) {
    const c = r.at(i);
    if (isDigit(c) && !isWord(prev) && prev !== DOT && prev !== DASH) {
      const end = cardEnd(r, i);
      if (end >= 0) {
        fn(i, end);
        prev = r.at(end - 1);
        i = end;
        continue;
      }
    }
    prev = c;
    i++;
  }
  return r.reads;
}
