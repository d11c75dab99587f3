/**
 * Per-request safety signals, each computed lazily and at most once per request: PII findings over every text slot of the
 * body, the language of the user's text and the jailbreak score. Rules, the safety stage and explain share the same memo.
 * Findings are recorded in ctx.facts.safety by type, detector and position only — never the values.
 */
import type { RequestContext } from '../pipeline/context.js';
import { nativeStrings, slotName, textSlots, type TextSlot } from './body-text.js';
import { detectLanguage } from './detectors/language.js';
import type { PiiType } from './detectors/types.js';
import { findingAt, type PackedFindings } from './pii-findings.js';
import type { PiiScanner } from './pii-scan.js';
import { nearestSimilarity, scoreJailbreak, type JailbreakExamples, type JailbreakReport } from './jailbreak.js';
import type { SafetyConfig } from './config.js';
import { RequestLocal } from '../pipeline/request-local.js';

export interface PiiReport {
  /** The request's text slots: the first texts of `found`, in order (the strings only the native body carries follow). */
  slots: TextSlot[];
  /** The findings of every text scanned, packed (pii-findings.ts). */
  found: PackedFindings;
  /** Distinct types found, sorted. */
  types: PiiType[];
  count: number;
  /**
   * Types found in text only the caller's native body carries (counted in `types` and `count` too): redaction cannot reach
   * it, so that body must not go upstream when such a type is to be redacted.
   */
  native: PiiType[];
}

export interface SafetySignals {
  /** At once when the request's texts are small; a promise when they are scanned off the event loop (pii-scan.ts). */
  pii(ctx: RequestContext): PiiReport | Promise<PiiReport>;
  language(ctx: RequestContext): string;
  jailbreak(ctx: RequestContext): Promise<JailbreakReport & { flagged: boolean }>;
}

export interface SignalDeps {
  config: () => SafetyConfig;
  /** The request's embedding (shared with the cache and the classifier); absent when semantic features are off. */
  embed?: (ctx: RequestContext) => Promise<Float32Array>;
  /** The embedded attack examples, when loaded. */
  examples: () => JailbreakExamples | undefined;
  /** Scans the request's texts for PII (in place, or off the event loop when they are large); the stage redacts with it too. */
  scanner: PiiScanner;
}

/**
 * Findings the request log lists one by one; past them it gives the number left (`pii_more`). A body packed with
 * addresses has hundreds of thousands, and the log line listing them all took seconds to write and megabytes to keep.
 */
const LOGGED_FINDINGS = 100;

interface Memo {
  pii?: PiiReport | Promise<PiiReport>;
  language?: string;
  jailbreak?: Promise<JailbreakReport & { flagged: boolean }>;
}

/** The user's own words: user turns (or prompts / inputs), newest last. */
function userText(ctx: RequestContext): string {
  let out = '';
  for (const s of textSlots(ctx.body)) if (s.role === 'user') out = out === '' ? s.text : `${out}\n${s.text}`;
  return out;
}

/** The request's `safety` facts (made on first use). */
export function factsOf(ctx: RequestContext): Record<string, unknown> {
  let f = ctx.facts['safety'] as Record<string, unknown> | undefined;
  if (!f) ctx.facts['safety'] = f = {};
  return f;
}

export function createSafetySignals(deps: SignalDeps): SafetySignals {
  const scanner = deps.scanner;
  const memos = new RequestLocal<Memo>('safety signals');
  const memo = (ctx: RequestContext): Memo => {
    let m = memos.get(ctx);
    if (!m) memos.set(ctx, (m = {}));
    return m;
  };

  const report = (ctx: RequestContext, slots: TextSlot[], found: PackedFindings): PiiReport => {
    // Most requests carry none: nothing to walk.
    if (found.spans.length === 0) return { slots, found, types: [], count: 0, native: [] };
    // Kinds are read per detector (a handful), not per finding (a body may hold hundreds of thousands).
    const inSlots = new Uint8Array(found.detectors.length);
    const inNative = new Uint8Array(found.detectors.length);
    const logged: Array<Record<string, unknown>> = [];
    let count = 0;
    let at = 0;
    for (let t = 0; t < found.counts.length; t++) {
      const n = found.counts[t];
      count += n;
      // The slots' texts come first, then the strings only the native body carries.
      const seen = t < slots.length ? inSlots : inNative;
      for (let k = 0; k < n; k++, at += 3) {
        seen[found.spans[at]] = 1;
        if (seen === inSlots && logged.length < LOGGED_FINDINGS) {
          const f = findingAt(found, at);
          logged.push({ type: f.type, detector: f.detector, at: slotName(slots[t].path), start: f.start, end: f.end });
        }
      }
    }
    const types = new Set<PiiType>();
    const native = new Set<PiiType>();
    found.types.forEach((type, d) => {
      if (inSlots[d] === 1 || inNative[d] === 1) types.add(type);
      if (inNative[d] === 1) native.add(type);
    });
    if (count > 0) {
      const facts = factsOf(ctx);
      facts['pii'] = logged;
      if (count > logged.length) facts['pii_more'] = count - logged.length;
    }
    return { slots, found, types: [...types].sort(), count, native: [...native].sort() };
  };

  const pii = (ctx: RequestContext): PiiReport | Promise<PiiReport> => {
    const m = memo(ctx);
    if (m.pii) return m.pii;
    const slotList = textSlots(ctx.body);
    const texts = slotList.map((s) => s.text);
    for (const text of nativeStrings(ctx.native?.extras)) texts.push(text);
    const found = scanner.scan(texts, ctx.caller.virtualKeyId);
    if (!(found instanceof Promise)) return (m.pii = report(ctx, slotList, found));
    // Shared by every reader of this request; a refused scan is not kept, so a later reader asks again.
    const later = found.then((f) => (m.pii = report(ctx, slotList, f)), (err: unknown) => {
      if (m.pii === later) m.pii = undefined;
      throw err;
    });
    return (m.pii = later);
  };

  const language = (ctx: RequestContext): string => {
    const m = memo(ctx);
    if (m.language === undefined) {
      m.language = detectLanguage(userText(ctx));
      factsOf(ctx)['language'] = m.language;
    }
    return m.language;
  };

  const jailbreak = (ctx: RequestContext): Promise<JailbreakReport & { flagged: boolean }> => {
    const m = memo(ctx);
    m.jailbreak ??= (async () => {
      const cfg = deps.config().jailbreak;
      const examples = deps.examples();
      let similarity: number | undefined;
      let benign: number | undefined;
      if (examples && deps.embed && examples.vectors.length > 0) {
        const vec = await deps.embed(ctx).catch(() => undefined);
        if (vec) {
          similarity = nearestSimilarity(vec, examples.vectors);
          if (examples.benign.length > 0) benign = nearestSimilarity(vec, examples.benign);
        }
      }
      const r = scoreJailbreak(userText(ctx), similarity, cfg, benign);
      const out = { ...r, flagged: r.score >= cfg.threshold };
      factsOf(ctx)['jailbreak'] = { score: out.score, similarity: out.similarity, cues: out.cues.length > 0 ? out.cues : undefined };
      return out;
    })();
    return m.jailbreak;
  };

  return { pii, language, jailbreak };
}
