/**
 * Hidden views of a text for the jailbreak heuristics: what an encoded or obfuscated instruction says once decoded.
 * Payloads (base64 and hex blobs that decode to printable text, the rot13 and the reversed reading of the whole text)
 * and the de-obfuscated text (zero-width characters and look-alike letters removed, leetspeak mapped back to letters,
 * s p a c e d and d.o.t.t.e.d letters joined). The cues are then checked on each view. Pure.
 */

export type ViewKind = 'base64' | 'hex' | 'rot13' | 'reversed' | 'obfuscated';

export interface HiddenView {
  kind: ViewKind;
  text: string;
  /** A decoded payload (its sender hid it); the obfuscated view is the same text, cleaned. */
  payload: boolean;
}

const BASE64 = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])/g;
/** Hex bytes, bare (`69676e…`), spaced or colon-separated (`69 67 6e`), or `\x`-escaped; at least 8 bytes. */
const HEX = /(?<![0-9A-Za-z\\])(?:(?:\\x|0x)?[0-9A-Fa-f]{2}[\s:,]?){8,}(?![0-9A-Za-z])/g;
const MAX_BLOBS = 8;

/** Decoded bytes as text when they are mostly printable; undefined otherwise. */
function printable(buf: Buffer): string | undefined {
  if (buf.length < 8) return undefined;
  let ok = 0;
  for (const b of buf) if ((b >= 32 && b < 127) || b === 10 || b === 13 || b === 9) ok++;
  return ok / buf.length >= 0.95 ? buf.toString('latin1') : undefined;
}

function decodeBase64(blob: string): string | undefined {
  if (blob.length % 4 === 1) return undefined;
  const buf = Buffer.from(blob, 'base64');
  return buf.length < 12 ? undefined : printable(buf);
}

function decodeHex(blob: string): string | undefined {
  const digits = blob.replace(/\\x|0x|[\s:,]/gi, '');
  return digits.length % 2 === 0 ? printable(Buffer.from(digits, 'hex')) : undefined;
}

const rot13 = (s: string): string =>
  s.replace(/[A-Za-z]/g, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });

/** "the", "and", "you", "your", "all", "to", "of", "is", "ignore", "instructions" in rot13, and reversed. */
const ROT13_WORDS = /\b(?:gur|naq|lbh|lbhe|nyy|gb|bs|vf|vtaber|vafgehpgvbaf)\b/i;
const REVERSED_WORDS = /\b(?:eht|dna|uoy|ruoy|lla|erongi|snoitcurtsni)\b/i;

const ZERO_WIDTH = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;
/** Cyrillic and Greek letters that look like Latin ones. */
const HOMOGLYPHS: Readonly<Record<string, string>> = {
  а: 'a', е: 'e', о: 'o', р: 'p', с: 'c', х: 'x', у: 'y', і: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ɡ: 'g', ո: 'n',
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', Х: 'X', І: 'I',
  ο: 'o', α: 'a', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ρ: 'p', τ: 't', υ: 'u', Ο: 'O', Α: 'A', Ε: 'E', Ι: 'I', Κ: 'K', Ν: 'N', Ρ: 'P', Τ: 'T',
};
const HOMOGLYPH_RE = new RegExp(`[${Object.keys(HOMOGLYPHS).join('')}]`, 'g');
const LEET: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', $: 's' };
/** A word mixing letters with leet digits or symbols (`1gn0r3`, `pr3v10u5`), not a plain number or `mp3`-style name. */
const LEET_WORD = /(?<![\w@$])(?=[\w@$]*[A-Za-z])(?=[\w@$]*[0134578@$])[\w@$]{3,}(?![\w@$])/g;
/** Letters written one by one: `i g n o r e`, `i.g.n.o.r.e`, `r-u-l-e-s` (at least four letters). */
const SPACED = /\b(?:[A-Za-z] ){3,}[A-Za-z]\b/g;
const DOTTED = /\b(?:[A-Za-z][.\-_*·|]){3,}[A-Za-z]\b/g;

/** The text with common obfuscations undone; the same string when there was nothing to undo. */
export function deobfuscate(text: string): string {
  let t = text.normalize('NFKC').replace(ZERO_WIDTH, '').replace(HOMOGLYPH_RE, (c) => HOMOGLYPHS[c] ?? c);
  t = t.replace(LEET_WORD, (w) => {
    const letters = w.replace(/[0134578@$]/g, (c) => LEET[c] ?? c);
    // `4ll`, `h4ck`: mostly letters once mapped; `2024x` or a hex id is left alone.
    return /\d/.test(letters) ? w : letters;
  });
  t = t.replace(SPACED, (w) => w.replace(/ /g, '')).replace(DOTTED, (w) => w.replace(/[.\-_*·|]/g, ''));
  return t;
}

/** The hidden views of `text` worth checking (none when it hides nothing). */
export function hiddenViews(text: string): HiddenView[] {
  const views: HiddenView[] = [];
  for (const [re, kind, decode] of [[BASE64, 'base64', decodeBase64], [HEX, 'hex', decodeHex]] as const) {
    re.lastIndex = 0;
    for (let m = re.exec(text), n = 0; m !== null && n < MAX_BLOBS; m = re.exec(text), n++) {
      const decoded = decode(m[0].trim());
      if (decoded !== undefined) views.push({ kind, text: decoded, payload: true });
    }
  }
  // Whole-text readings only when the text carries a common word so encoded (a cheap test instead of two more passes).
  if (ROT13_WORDS.test(text)) views.push({ kind: 'rot13', text: rot13(text), payload: true });
  if (REVERSED_WORDS.test(text)) views.push({ kind: 'reversed', text: text.split('').reverse().join(''), payload: true });
  const clean = deobfuscate(text);
  if (clean !== text) views.push({ kind: 'obfuscated', text: clean, payload: false });
  return views;
}
