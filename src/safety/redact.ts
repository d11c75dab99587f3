/**
 * Redaction: detected PII becomes typed placeholders (`[EMAIL_1]`, `[CARD_1]`); the same value gets the same placeholder
 * everywhere in the request, and never one the request already holds as text (the caller's own `[EMAIL_1]` stays its text,
 * never restored to a value). The placeholder → original table stays in memory for the request only, to restore the
 * originals in the reply. Pure: a large body's redaction runs in the PII worker thread (pii-scan.ts) with the same code.
 *
 * The table is kept compact (every original in one string, typed arrays to find them): a body packed with addresses
 * has hundreds of thousands of distinct values, and a map entry per value, built or received on the event loop, held it
 * for hundreds of milliseconds.
 */
import { replaceSlots, type TextSlot } from './body-text.js';
import type { PiiType } from './detectors/types.js';
import type { PackedFindings } from './pii-findings.js';

const PLACEHOLDER = /\[[A-Z]+_\d+\]/g;

/** What restoring reads: the original behind a placeholder, or undefined for text that is not one of the request's. */
export interface PlaceholderValues {
  get(placeholder: string): string | undefined;
}

/** The table as it travels between threads (plain data; its arrays' buffers are transferred). */
export interface OriginalsData {
  /** Every original, in the order they got their placeholders. */
  values: string;
  /** Where each original ends in `values`. */
  ends: Int32Array;
  /** Placeholder kinds (`EMAIL`), and per kind: placeholder number → 1 + the original's index (0: none). */
  kinds: string[];
  numbers: Int32Array[];
}

/** Placeholder → original, as redaction made them. */
export class Originals implements PlaceholderValues {
  constructor(private readonly data: OriginalsData) {}

  /** How many originals the table holds. */
  get size(): number {
    return this.data.ends.length;
  }

  get(placeholder: string): string | undefined {
    const d = this.data;
    const us = placeholder.lastIndexOf('_');
    const last = placeholder.length - 1;
    if (us < 2 || placeholder.charCodeAt(0) !== 91 /* [ */ || placeholder.charCodeAt(last) !== 93 /* ] */) return undefined;
    const k = d.kinds.indexOf(placeholder.slice(1, us));
    // Digits only, no leading zero (the table's own placeholders have none), at most 9 (an int).
    if (k < 0 || last - us - 1 < 1 || last - us - 1 > 9 || (placeholder.charCodeAt(us + 1) === 48 && last - us - 1 > 1)) return undefined;
    let n = 0;
    for (let i = us + 1; i < last; i++) {
      const c = placeholder.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      n = n * 10 + c;
    }
    const v = n < d.numbers[k].length ? d.numbers[k][n] : 0;
    if (v === 0) return undefined;
    return d.values.slice(v === 1 ? 0 : d.ends[v - 2], d.ends[v - 1]);
  }
}

/** The redactable texts with placeholders in (undefined: unchanged), the table, and how many findings were replaced. */
export interface RedactedTexts {
  texts: Array<string | undefined>;
  originals: OriginalsData;
  replaced: number;
}

/** The placeholder-shaped text a body holds outside its text slots (the slots' own are found with their findings). */
export function placeholdersOutside(body: Readonly<Record<string, unknown>>, slots: readonly TextSlot[]): string[] {
  return JSON.stringify(replaceSlots(body, slots.map((s) => ({ path: s.path, text: '' })))).match(PLACEHOLDER) ?? [];
}

/**
 * Replaces the findings of the listed types in `texts` (the first texts of `found`, in order; the texts after them, if
 * any, are not redactable and are skipped). `outside`: placeholder-shaped text elsewhere in the body, read when the first
 * value needs a placeholder; those numbers are skipped, as are the ones in the texts themselves.
 */
export function redactTexts(texts: readonly string[], found: PackedFindings, types: ReadonlySet<PiiType>, outside: () => readonly string[]): RedactedTexts {
  const byValue = new Map<string, string>();
  const values: string[] = [];
  const kinds: string[] = [];
  const numbers: number[][] = [];
  const kindOf = new Map<PiiType, number>();
  let taken: Set<string> | undefined;
  const out: Array<string | undefined> = new Array<string | undefined>(texts.length).fill(undefined);
  const { spans, counts } = found;
  let replaced = 0;
  let at = 0;
  for (let t = 0; t < texts.length; t++) {
    const text = texts[t];
    const parts: string[] = [];
    let from = 0;
    for (const end = at + counts[t] * 3; at < end; at += 3) {
      const type = found.types[spans[at]];
      if (!types.has(type)) continue;
      const start = spans[at + 1];
      const value = text.slice(start, spans[at + 2]);
      let ph = byValue.get(value);
      if (ph === undefined) {
        taken ??= takenIn(texts, outside());
        let k = kindOf.get(type);
        if (k === undefined) {
          k = kinds.push(type.toUpperCase()) - 1;
          numbers.push([0]);
          kindOf.set(type, k);
        }
        const nums = numbers[k];
        // The next number of the kind that the body does not already hold; numbers[k][n] = 1 + the value's index.
        do {
          ph = `[${kinds[k]}_${nums.length}]`;
          nums.push(0);
        } while (taken.has(ph));
        nums[nums.length - 1] = values.push(value);
        byValue.set(value, ph);
      }
      parts.push(text.slice(from, start), ph);
      from = spans[at + 2];
      replaced++;
    }
    if (parts.length > 0) {
      parts.push(text.slice(from));
      out[t] = parts.join('');
    }
  }
  const ends = new Int32Array(values.length);
  let length = 0;
  for (let i = 0; i < values.length; i++) ends[i] = length += values[i].length;
  return { texts: out, originals: { values: values.join(''), ends, kinds, numbers: numbers.map((n) => Int32Array.from(n)) }, replaced };
}

function takenIn(texts: readonly string[], outside: readonly string[]): Set<string> {
  const taken = new Set(outside);
  for (const text of texts) if (text.includes('[')) for (const ph of text.match(PLACEHOLDER) ?? []) taken.add(ph);
  return taken;
}

export interface Redaction {
  /** The body to send upstream. */
  body: Record<string, unknown>;
  originals: Originals;
  replaced: number;
}

/** The body with the redacted texts in place of its slots' (undefined when nothing was replaced). */
export function applyRedaction(body: Readonly<Record<string, unknown>>, slots: readonly TextSlot[], r: RedactedTexts): Redaction | undefined {
  const replacements: Array<{ path: ReadonlyArray<string | number>; text: string }> = [];
  r.texts.forEach((text, i) => {
    if (text !== undefined) replacements.push({ path: slots[i].path, text });
  });
  if (replacements.length === 0) return undefined;
  return { body: replaceSlots(body, replacements), originals: new Originals(r.originals), replaced: r.replaced };
}

/** Puts the originals back into a text. */
export function restoreText(text: string, originals: PlaceholderValues, escape?: (s: string) => string): string {
  if (!text.includes('[')) return text;
  return text.replace(PLACEHOLDER, (ph) => {
    const v = originals.get(ph);
    return v === undefined ? ph : escape ? escape(v) : v;
  });
}

/** The longest placeholder text a stream might split, with some headroom. */
const MAX_HOLD = 24;
const PARTIAL = /^\[[A-Z]*(?:_\d*)?$/;

/**
 * Restores placeholders in a stream of text deltas. A placeholder may be split across deltas, so a tail that could be the
 * start of one is held back (at most a few characters) until the next delta or `flush()`.
 */
export class StreamRestorer {
  private held = '';
  /** `escape`: how a restored value is written (JSON string escaping for tool-call arguments); as-is by default. */
  constructor(private readonly originals: PlaceholderValues, private readonly escape?: (s: string) => string) {}

  push(delta: string): string {
    const text = this.held + delta;
    this.held = '';
    const open = text.lastIndexOf('[');
    if (open >= 0 && text.length - open <= MAX_HOLD && PARTIAL.test(text.slice(open))) {
      this.held = text.slice(open);
      return restoreText(text.slice(0, open), this.originals, this.escape);
    }
    return restoreText(text, this.originals, this.escape);
  }

  flush(): string {
    const t = this.held;
    this.held = '';
    return restoreText(t, this.originals, this.escape);
  }

  get pending(): boolean {
    return this.held !== '';
  }
}
