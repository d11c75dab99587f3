/** Checksums and validity rules the PII detectors use to reject look-alike numbers. Pure. */

/** Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Card networks by issuer identification number prefix, with the lengths each network issues. */
const NETWORKS: ReadonlyArray<{ lo: number; hi: number; digits: number; lengths: readonly number[] }> = [
  { lo: 4, hi: 4, digits: 1, lengths: [13, 16, 19] }, // Visa
  { lo: 51, hi: 55, digits: 2, lengths: [16] }, // Mastercard
  { lo: 2221, hi: 2720, digits: 4, lengths: [16] }, // Mastercard 2-series
  { lo: 34, hi: 34, digits: 2, lengths: [15] }, // American Express
  { lo: 37, hi: 37, digits: 2, lengths: [15] },
  { lo: 6011, hi: 6011, digits: 4, lengths: [16, 17, 18, 19] }, // Discover
  { lo: 644, hi: 649, digits: 3, lengths: [16, 17, 18, 19] },
  { lo: 65, hi: 65, digits: 2, lengths: [16, 17, 18, 19] },
  { lo: 300, hi: 305, digits: 3, lengths: [14, 15, 16, 17, 18, 19] }, // Diners Club
  { lo: 36, hi: 36, digits: 2, lengths: [14, 15, 16, 17, 18, 19] },
  { lo: 38, hi: 39, digits: 2, lengths: [16, 17, 18, 19] },
  { lo: 3528, hi: 3589, digits: 4, lengths: [16, 17, 18, 19] }, // JCB
  { lo: 62, hi: 62, digits: 2, lengths: [16, 17, 18, 19] }, // UnionPay
  { lo: 50, hi: 50, digits: 2, lengths: [12, 13, 14, 15, 16, 17, 18, 19] }, // Maestro
  { lo: 56, hi: 58, digits: 2, lengths: [12, 13, 14, 15, 16, 17, 18, 19] },
  { lo: 6759, hi: 6759, digits: 4, lengths: [12, 13, 14, 15, 16, 17, 18, 19] },
  { lo: 2200, hi: 2204, digits: 4, lengths: [16, 17, 18, 19] }, // Mir
];

/** A payment card number: a known network prefix, a length that network issues, and a valid Luhn digit. */
export function cardValid(digits: string): boolean {
  const n = digits.length;
  if (n < 12 || n > 19) return false;
  const known = NETWORKS.some((net) => {
    const p = Number(digits.slice(0, net.digits));
    return p >= net.lo && p <= net.hi && net.lengths.includes(n);
  });
  return known && luhnValid(digits);
}

/** IBAN length per country (ISO 13616 registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24,
  DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28,
  HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29,
  RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22,
  VG: 24, XK: 20,
};

/** ISO 13616 mod-97 check of a compact IBAN (no spaces, upper case), with the country's registered length. */
export function ibanValid(iban: string): boolean {
  if (IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < moved.length; i++) {
    const c = moved.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/** US social security number rules: area not 000, 666 or 900-999; group not 00; serial not 0000; not a known sample. */
export function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  if (group === '00' || serial === '0000') return false;
  const whole = area + group + serial;
  return whole !== '078051120' && whole !== '219099999' && whole !== '123456789';
}

/** Shannon entropy of a string, bits per character. */
export function entropy(s: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) counts.set(s.charCodeAt(i), (counts.get(s.charCodeAt(i)) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
