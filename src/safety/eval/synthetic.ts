/**
 * Synthetic but realistic PII values for evaluation: Luhn-valid cards of real networks, IBANs with correct mod-97 check
 * digits, SSNs outside the invalid ranges, routable-looking phones and addresses, well-formed keys. Deterministic per seed.
 */
import type { PiiType } from '../detectors/types.js';
import { seededRandom } from '../../util/seeded-random.js';

export type Rng = () => number;

export const seeded: (seed: number) => Rng = seededRandom;

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const digits = (rng: Rng, n: number): string => Array.from({ length: n }, () => Math.floor(rng() * 10)).join('');
const alnum = (rng: Rng, n: number, set = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'): string =>
  Array.from({ length: n }, () => set[Math.floor(rng() * set.length)]).join('');

function luhnComplete(partial: string): string {
  for (let d = 0; d <= 9; d++) {
    const s = partial + d;
    let sum = 0;
    for (let i = 0; i < s.length; i++) {
      let x = s.charCodeAt(s.length - 1 - i) - 48;
      if (i % 2 === 1) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
      sum += x;
    }
    if (sum % 10 === 0) return s;
  }
  throw new Error('unreachable');
}

function card(rng: Rng): string {
  const [prefix, len] = pick(rng, [['4', 16], ['51', 16], ['55', 16], ['2221', 16], ['37', 15], ['6011', 16], ['3528', 16]] as const);
  const n = luhnComplete(prefix + digits(rng, len - prefix.length - 1));
  const style = pick(rng, ['plain', 'space', 'dash']);
  if (style === 'plain') return n;
  const groups = len === 15 ? [4, 6, 5] : [4, 4, 4, 4];
  const parts: string[] = [];
  let at = 0;
  for (const g of groups) parts.push(n.slice(at, (at += g)));
  return parts.join(style === 'space' ? ' ' : '-');
}

function iban(rng: Rng): string {
  const [cc, bban] = pick(rng, [['DE', () => digits(rng, 18)], ['GB', () => alnum(rng, 4, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') + digits(rng, 14)], ['FR', () => digits(rng, 23)], ['NL', () => alnum(rng, 4, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') + digits(rng, 10)], ['ES', () => digits(rng, 20)]] as const);
  const b = bban();
  const moved = (b + cc + '00').replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rem = 0;
  for (const ch of moved) rem = (rem * 10 + Number(ch)) % 97;
  const check = String(98 - rem).padStart(2, '0');
  const compact = cc + check + b;
  return rng() < 0.5 ? compact : compact.replace(/(.{4})/g, '$1 ').trim();
}

function ssn(rng: Rng): string {
  let area = 1 + Math.floor(rng() * 899);
  if (area === 666) area = 667;
  return `${String(area).padStart(3, '0')}-${String(1 + Math.floor(rng() * 99)).padStart(2, '0')}-${String(1 + Math.floor(rng() * 9999)).padStart(4, '0')}`;
}

const FIRST = ['maria', 'james', 'li', 'fatima', 'olga', 'kwame', 'sofia', 'raj'];
const LAST = ['garcia', 'smith', 'wang', 'khan', 'ivanova', 'mensah', 'rossi', 'patel'];
const STREETS = ['Maple', 'Oak', 'Washington', 'Lake', 'Hill', 'Cedar', 'Park', 'Sunset'];
const SUFFIX = ['Street', 'Avenue', 'Road', 'Blvd', 'Lane', 'Drive', 'Court'];
const CITIES: ReadonlyArray<[string, string]> = [['Springfield', 'IL'], ['Austin', 'TX'], ['Portland', 'OR'], ['Denver', 'CO']];

export const GENERATORS: Readonly<Record<PiiType, (rng: Rng) => string>> = {
  email: (rng) => `${pick(rng, FIRST)}${pick(rng, ['.', '_', ''])}${pick(rng, LAST)}${rng() < 0.3 ? digits(rng, 2) : ''}@${pick(rng, ['gmail.com', 'example.org', 'corp.co.uk', 'mail.de'])}`,
  phone: (rng) => rng() < 0.5
    ? pick(rng, [`(${2 + Math.floor(rng() * 8)}${digits(rng, 2)}) ${2 + Math.floor(rng() * 8)}${digits(rng, 2)}-${digits(rng, 4)}`, `${2 + Math.floor(rng() * 8)}${digits(rng, 2)}-${2 + Math.floor(rng() * 8)}${digits(rng, 2)}-${digits(rng, 4)}`])
    : pick(rng, [`+44 20 ${digits(rng, 4)} ${digits(rng, 4)}`, `+49 30 ${digits(rng, 8)}`, `+33 1 ${digits(rng, 2)} ${digits(rng, 2)} ${digits(rng, 2)} ${digits(rng, 2)}`, `+1 ${2 + Math.floor(rng() * 8)}${digits(rng, 2)} 555 ${digits(rng, 4)}`]),
  card,
  iban,
  ssn,
  ip: (rng) => rng() < 0.7 ? `${1 + Math.floor(rng() * 222)}.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}.${1 + Math.floor(rng() * 254)}` : `2001:db8:${alnum(rng, 4, '0123456789abcdef')}::${alnum(rng, 3, '0123456789abcdef')}:${alnum(rng, 4, '0123456789abcdef')}`,
  secret: (rng) => pick(rng, [`sk-proj-${alnum(rng, 40)}`, `AKIA${alnum(rng, 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`, `ghp_${alnum(rng, 36)}`, `xoxb-${digits(rng, 11)}-${alnum(rng, 24)}`, `AIza${alnum(rng, 35)}`, `sk-ant-api03-${alnum(rng, 48)}`]),
  address: (rng) => {
    const [city, st] = pick(rng, CITIES);
    return `${1 + Math.floor(rng() * 9000)} ${pick(rng, STREETS)} ${pick(rng, SUFFIX)}${rng() < 0.5 ? `, ${city}, ${st} ${digits(rng, 5)}` : ''}`;
  },
};

const TEMPLATES: Readonly<Record<PiiType, readonly string[]>> = {
  email: ['You can reach me at {v}.', 'Please send it to {v}', 'my email is {v} thanks'],
  phone: ['Call me on {v} after five.', 'my number is {v}', 'Text {v} if anything changes.'],
  card: ['My card number is {v}, why was it declined?', 'charge {v} please', 'Card: {v}'],
  iban: ['Transfer it to {v}.', 'my IBAN is {v}', 'Account {v} should receive the refund.'],
  ssn: ['My SSN is {v}.', 'social security number {v}', 'SSN: {v}'],
  ip: ['The server at {v} is down.', 'my IP address is {v}', 'Requests come from {v} today.'],
  secret: ['Here is my key {v}', 'export OPENAI_API_KEY={v}', 'use token {v} for the call'],
  address: ['Ship it to {v}.', 'I live at {v}', 'The office is at {v}, come by.'],
};

/** The text with one PII value inserted (before or after it), and the value's span. */
export function insertPii(text: string, type: PiiType, rng: Rng): { text: string; start: number; end: number } {
  const v = GENERATORS[type](rng);
  const sentence = pick(rng, TEMPLATES[type]);
  const at = sentence.indexOf('{v}');
  const filled = sentence.replace('{v}', v);
  if (rng() < 0.5) return { text: `${text} ${filled}`, start: text.length + 1 + at, end: text.length + 1 + at + v.length };
  return { text: `${filled} ${text}`, start: at, end: at + v.length };
}
