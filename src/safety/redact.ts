/**
 * Redaction: detected PII becomes typed placeholders (`[EMAIL_1]`, `[CARD_1]`); the same value gets the same placeholder
 * everywhere in the request, and never one the request already holds as text (the caller's own `[EMAIL_1]` stays its text,
 * never restored to a value). The placeholder → original map stays in memory for the request only, to restore the
 * originals in the reply. Pure.
 */
import { replaceSlots, type TextSlot } from './body-text.js';
import type { PiiFinding, PiiType } from './detectors/types.js';

export interface SlotFindings {
  slot: TextSlot;
  findings: PiiFinding[];
}

export interface Redaction {
  /** The body to send upstream. */
  body: Record<string, unknown>;
  /** Placeholder → original value. */
  originals: Map<string, string>;
  /** Findings replaced, by type. */
  replaced: number;
}

const PLACEHOLDER = /\[[A-Z]+_\d+\]/g;

export function redactBody(
  body: Readonly<Record<string, unknown>>,
  found: readonly SlotFindings[],
  types: ReadonlySet<PiiType>,
): Redaction | undefined {
  const byValue = new Map<string, string>();
  const originals = new Map<string, string>();
  const counters = new Map<PiiType, number>();
  // Placeholder-shaped text anywhere in the body (read once, when the first value is replaced): those numbers are skipped.
  let taken: Set<string> | undefined;
  const replacements: Array<{ path: ReadonlyArray<string | number>; text: string }> = [];
  let replaced = 0;
  for (const { slot, findings } of found) {
    let out = '';
    let at = 0;
    for (const f of findings) {
      if (!types.has(f.type)) continue;
      const value = slot.text.slice(f.start, f.end);
      let ph = byValue.get(value);
      if (ph === undefined) {
        taken ??= new Set(JSON.stringify(body).match(PLACEHOLDER));
        let n = counters.get(f.type) ?? 0;
        do ph = `[${f.type.toUpperCase()}_${++n}]`;
        while (taken.has(ph));
        counters.set(f.type, n);
        byValue.set(value, ph);
        originals.set(ph, value);
      }
      out += slot.text.slice(at, f.start) + ph;
      at = f.end;
      replaced++;
    }
    if (at > 0) replacements.push({ path: slot.path, text: out + slot.text.slice(at) });
  }
  if (replacements.length === 0) return undefined;
  return { body: replaceSlots(body, replacements), originals, replaced };
}

/** Puts the originals back into a text. */
export function restoreText(text: string, originals: ReadonlyMap<string, string>, escape?: (s: string) => string): string {
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
  constructor(private readonly originals: ReadonlyMap<string, string>, private readonly escape?: (s: string) => string) {}

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
