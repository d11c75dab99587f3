/**
 * Per-request safety signals, each computed lazily and at most once per request: PII findings over every text slot of the
 * body, the language of the user's text and the jailbreak score. Rules, the safety stage and explain share the same memo.
 * Findings are recorded in ctx.facts.safety by type, detector and position only — never the values.
 */
import type { RequestContext } from '../pipeline/context.js';
import { nativeStrings, slotName, textSlots } from './body-text.js';
import { detectLanguage } from './detectors/language.js';
import { detectPii } from './detectors/pii.js';
import type { PiiType } from './detectors/types.js';
import { nearestSimilarity, scoreJailbreak, type JailbreakExamples, type JailbreakReport } from './jailbreak.js';
import type { SafetyConfig } from './config.js';
import type { SlotFindings } from './redact.js';
import { RequestLocal } from '../pipeline/request-local.js';

export interface PiiReport {
  slots: SlotFindings[];
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
  pii(ctx: RequestContext): PiiReport;
  language(ctx: RequestContext): string;
  jailbreak(ctx: RequestContext): Promise<JailbreakReport & { flagged: boolean }>;
}

export interface SignalDeps {
  config: () => SafetyConfig;
  /** The request's embedding (shared with the cache and the classifier); absent when semantic features are off. */
  embed?: (ctx: RequestContext) => Promise<Float32Array>;
  /** The embedded attack examples, when loaded. */
  examples: () => JailbreakExamples | undefined;
}

interface Memo {
  pii?: PiiReport;
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
  const memos = new RequestLocal<Memo>('safety signals');
  const memo = (ctx: RequestContext): Memo => {
    let m = memos.get(ctx);
    if (!m) memos.set(ctx, (m = {}));
    return m;
  };

  const pii = (ctx: RequestContext): PiiReport => {
    const m = memo(ctx);
    if (m.pii) return m.pii;
    const slots: SlotFindings[] = [];
    const types = new Set<PiiType>();
    let count = 0;
    for (const slot of textSlots(ctx.body)) {
      const findings = detectPii(slot.text);
      if (findings.length === 0) continue;
      slots.push({ slot, findings });
      for (const f of findings) types.add(f.type);
      count += findings.length;
    }
    const native = new Set<PiiType>();
    for (const text of nativeStrings(ctx.native?.extras)) {
      const findings = detectPii(text);
      for (const f of findings) {
        native.add(f.type);
        types.add(f.type);
      }
      count += findings.length;
    }
    m.pii = { slots, types: [...types].sort(), count, native: [...native].sort() };
    if (count > 0) {
      factsOf(ctx)['pii'] = slots.flatMap(({ slot, findings }) =>
        findings.map((f) => ({ type: f.type, detector: f.detector, at: slotName(slot.path), start: f.start, end: f.end })),
      );
    }
    return m.pii;
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
