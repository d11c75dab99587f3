/**
 * PII detection: e-mail addresses, phone numbers, payment cards, IBANs, US SSNs, IP addresses, secrets and US street
 * addresses. Precision first: every numeric kind is confirmed by a checksum or validity rule, phone numbers need a
 * plausible layout with separators, and addresses need a street suffix. Returns spans (type, detector, position) sorted by
 * position with overlaps resolved; the text itself is never copied into a finding. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { cardValid, ibanValid, ssnValid } from './checksums.js';
import { eachCard, eachIntlPhone } from './digit-runs.js';
import { eachEmail } from './email.js';
import { detectSecrets } from './secrets.js';
import type { PiiFinding, PiiType } from './types.js';

const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g;
const SSN = /(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])/g;
const SSN_BARE = /\b(?:ssn|social security(?: number| no\.?)?)\b\D{0,20}(?<!\d)(\d{3})(\d{2})(\d{4})(?!\d)/gi;
/** North American: (212) 555-0142, 212-555-0142, 212.555.0142, 1-800-555-0199. Separators required. */
const PHONE_US = /(?<![\w+-])(?:1[ .-])?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w]|[.-]\d)/g;
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)/g;
const IPV6 = /(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g;
const STREET_SUFFIX =
  'Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Terrace|Parkway|Pkwy|Circle|Highway|Hwy|Way|Square|Sq';
const ADDRESS = new RegExp(
  `(?<![\\w#-])\\d{1,6}[A-Z]? (?:(?:[NSEW]|North|South|East|West)\\.? )?(?:[A-Z][a-z]+\\.? |\\d{1,3}(?:st|nd|rd|th) ){1,3}(?:${STREET_SUFFIX})\\b\\.?` +
    `(?:,? (?:Apt|Apartment|Suite|Ste|Unit|#) ?[A-Za-z0-9-]{1,6})?` +
    `(?:, ?[A-Z][a-z]+(?: [A-Z][a-z]+){0,2},? [A-Z]{2} \\d{5}(?:-\\d{4})?)?`,
  'g',
);

type Sink = (type: PiiType, detector: string, start: number, end: number) => void;

function each(re: RegExp, text: string, fn: (m: RegExpExecArray) => void): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) fn(m);
}

const digitsOf = (s: string): string => s.replace(/\D/g, '');

function detectNumbers(text: string, add: Sink): void {
  // Cards and international phones: 12-19 digits in groups split consistently by single spaces or dashes, or not at
  // all; + country code, then groups split by space, dot or dash, 8-15 digits in all (digit-runs.ts reads the layouts).
  eachCard(text, (start, end) => {
    const d = digitsOf(text.slice(start, end));
    if (d.length >= 12 && d.length <= 19 && cardValid(d)) add('card', 'card.luhn', start, end);
  });
  each(IBAN, text, (m) => {
    if (ibanValid(m[0].replace(/ /g, ''))) add('iban', 'iban.mod97', m.index, m.index + m[0].length);
  });
  each(SSN, text, (m) => {
    if (ssnValid(m[1]!, m[3]!, m[4]!)) add('ssn', 'ssn.format', m.index, m.index + m[0].length);
  });
  each(SSN_BARE, text, (m) => {
    if (!ssnValid(m[1]!, m[2]!, m[3]!)) return;
    const end = m.index + m[0].length;
    add('ssn', 'ssn.context', end - 9, end);
  });
  each(PHONE_US, text, (m) => add('phone', 'phone.us', m.index, m.index + m[0].length));
  eachIntlPhone(text, (start, end) => {
    const s = text.slice(start, end);
    const n = digitsOf(s).length;
    // At least one separator or a parenthesised area code: a bare "+123456789" is too often something else.
    if (n >= 8 && n <= 15 && /[ .()-]/.test(s)) add('phone', 'phone.intl', start, end);
  });
}

function detectNetwork(text: string, add: Sink): void {
  eachEmail(text, (start, end) => add('email', 'email', start, end));
  each(IPV4, text, (m) => {
    // "version 1.2.3.4" / "v1.2.3.4" is a version number, not an address.
    if (/(?:\bversion|\bver\.?|\bv)\s*$/i.test(text.slice(Math.max(0, m.index - 10), m.index))) return;
    if (isIPv4(m[0]) && m[0] !== '0.0.0.0') add('ip', 'ip.v4', m.index, m.index + m[0].length);
  });
  each(IPV6, text, (m) => {
    const s = m[0];
    // Real addresses have several hex groups; "a::b" in code or "10:30" in prose do not qualify.
    if (s.length < 6 || !/\d/.test(s) || (s.match(/[0-9A-Fa-f]+/g) ?? []).length < 3) return;
    if (isIPv6(s)) add('ip', 'ip.v6', m.index, m.index + s.length);
  });
}

/** Priority when spans overlap: the stronger evidence wins (checksummed and prefixed kinds first). */
const RANK: Readonly<Record<PiiType, number>> = { secret: 0, card: 1, iban: 2, email: 3, ssn: 4, ip: 5, phone: 6, address: 7 };

/**
 * Keeps the best of each group of overlapping spans, sorted by position. The characters of kept spans are marked, so a
 * span is checked against its own characters, not against every span kept before it (a text of many findings would cost
 * the square of their number). Spans are never empty, and each detector's spans do not overlap one another, so the
 * marking is linear in the text.
 */
export function resolveOverlaps(found: PiiFinding[]): PiiFinding[] {
  found.sort((a, b) => RANK[a.type] - RANK[b.type] || b.end - b.start - (a.end - a.start) || a.start - b.start);
  let size = 0;
  for (const f of found) size = Math.max(size, f.end);
  const taken = new Uint8Array(size);
  const kept: PiiFinding[] = [];
  const overlaps = (f: PiiFinding): boolean => {
    for (let i = f.start; i < f.end; i++) if (taken[i] === 1) return true;
    return false;
  };
  for (const f of found) {
    if (overlaps(f)) continue;
    kept.push(f);
    taken.fill(1, f.start, f.end);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** Detects PII in one text. */
export function detectPii(text: string): PiiFinding[] {
  if (text.length < 6) return [];
  const found: PiiFinding[] = [];
  const add: Sink = (type, detector, start, end) => void found.push({ type, detector, start, end });
  if (/\d/.test(text)) {
    detectNumbers(text, add);
    each(ADDRESS, text, (m) => add('address', 'address.us', m.index, m.index + m[0].length));
  }
  if (/[.:]/.test(text)) detectNetwork(text, add);
  detectSecrets(text, found);
  return found.length === 0 ? found : resolveOverlaps(found);
}
