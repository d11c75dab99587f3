import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eachCard, eachIntlPhone } from '../../src/safety/detectors/digit-runs.js';
import { seededRandom } from '../../src/util/seeded-random.js';

// The patterns the scanners replace, as the reference for the spans they find.
const PHONE_INTL = /(?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){2,6}(?![\w])/g;
const CARD = /(?<![\w.-])\d{4}(?:([ -]?)\d{2,7})(?:\1\d{1,7}){0,4}(?![\w]|[.-]\d)/g;

const byPattern = (re: RegExp, text: string): string => {
  const out: string[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(`${m.index}-${m.index + m[0].length}`);
  return out.join(' ');
};
const byScanner = (each: typeof eachCard, text: string): string => {
  const out: string[] = [];
  each(text, (start, end) => out.push(`${start}-${end}`));
  return out.join(' ');
};

/** Texts of digits, runs of digits, separators, parentheses, `+` and letters, up to about 60 characters. */
function texts(seed: number, count: number): string[] {
  const rng = seededRandom(seed);
  const pick = <T,>(s: ArrayLike<T>): T => s[Math.floor(rng() * s.length)]!;
  const digits = (n: number): string => Array.from({ length: n }, () => pick('0123456789')).join('');
  const loose = (): string => {
    let s = '';
    const len = 1 + Math.floor(rng() * 60);
    while (s.length < len) s += rng() < 0.3 ? digits(1 + Math.floor(rng() * (rng() < 0.8 ? 8 : 45))) : pick('0123456789 -.()+aZ_,');
    return s;
  };
  // A phone- or card-like layout: a country code, maybe an area code, groups with a separator, then a tail.
  const shaped = (): string => {
    let s = pick(['', '', ' ', 'a', '+', '-', '.', '(', '_', '1']) + (rng() < 0.7 ? '+' : '');
    s += digits(1 + Math.floor(rng() * (rng() < 0.8 ? 5 : 36)));
    if (rng() < 0.3) s += `${rng() < 0.5 ? pick(' .-') : ''}(${digits(Math.floor(rng() * 7))}${rng() < 0.9 ? ')' : ''}`;
    const sep = pick(' .-');
    for (let g = Math.floor(rng() * 9); g > 0; g--) {
      s += (rng() < 0.8 ? (rng() < 0.7 ? sep : pick(' .-()+a')) : '') + digits(1 + Math.floor(rng() * (rng() < 0.85 ? 7 : 40)));
    }
    return s + pick(['', '', ' ', 'a', '_', '-1', '.5', '+', ')', ' x', '-', '.']);
  };
  return Array.from({ length: count }, () => (rng() < 0.5 ? shaped() : loose()));
}

describe('digit-run scanners', () => {
  it('find the same spans as the patterns they replace', () => {
    let phones = 0;
    let cards = 0;
    for (const text of texts(20_251_205, 20_000)) {
      const phone = byPattern(PHONE_INTL, text);
      const card = byPattern(CARD, text);
      assert.equal(byScanner(eachIntlPhone, text), phone, JSON.stringify(text));
      assert.equal(byScanner(eachCard, text), card, JSON.stringify(text));
      if (phone !== '') phones++;
      if (card !== '') cards++;
    }
    assert.ok(phones > 3_000 && cards > 3_000, `${phones} phone and ${cards} card texts matched`);
  });

  it('keeps the layouts of real numbers', () => {
    const spans = (each: typeof eachCard, text: string): string[] => {
      const out: string[] = [];
      each(text, (start, end) => out.push(text.slice(start, end)));
      return out;
    };
    assert.deepEqual(spans(eachIntlPhone, 'call +1 (212) 555-0142, +44 20 7946 0958 or +33.1.23.45.67.89.'), [
      '+1 (212) 555-0142',
      '+44 20 7946 0958',
      '+33.1.23.45.67.89',
    ]);
    assert.deepEqual(spans(eachCard, 'cards 4111 1111 1111 1111, 3782-822463-10005 and 4111111111111111; not 1234.5678'), [
      '4111 1111 1111 1111',
      '3782-822463-10005',
      '4111111111111111',
    ]);
  });
});
