/**
 * The safety feature: signals (PII, language, jailbreak score) for rules and explain, and the stage that blocks, redacts or
 * reroutes. `createSafety` loads and embeds the attack examples once at start-up (when semantic features are on).
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { RequestContext } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import type { SafetyInputs } from '../rules/variables.js';
import type { SafetyConfig } from './config.js';
import { loadJailbreakExamples, type JailbreakExamples } from './jailbreak.js';
import { unpack } from './pii-findings.js';
import { PiiScanner } from './pii-scan.js';
import { createSafetySignals, type SafetySignals } from './signals.js';
import { createSafetyStage, ruleActionOf, type BlockKind, type RuleAction } from './stage.js';

export { safetyConfigSchema, type SafetyConfig } from './config.js';
export { contentPolicyError, ruleActionOf, type BlockKind, type RuleAction } from './stage.js';
export { detectPii } from './detectors/pii.js';
export { detectLanguage } from './detectors/language.js';
export { jailbreakHeuristics } from './detectors/jailbreak-heuristics.js';

export interface SafetyDeps {
  config: () => SafetyConfig;
  /** The attack-examples file (safety.jailbreak.examples, else the reference-prompt folder's jailbreak.yaml), relative to rootDir; read once at start-up. */
  examplesFile: string;
  /**
   * The benign near-misses file, relative to rootDir: safety.jailbreak.benign_examples (must exist), else jailbreak_benign.yaml
   * in the reference-prompt folder (optional: a folder without one has no contrast set).
   */
  benignExamples?: { file: string; optional: boolean };
  rootDir: string;
  logger: Logger;
  /** Embeds texts (the semantic service's embedder); absent when semantic features are off. */
  embedTexts?: (texts: string[]) => Promise<Float32Array[]>;
  /** The request's embedding, shared with the cache and the classifier. */
  embed?: (ctx: RequestContext) => Promise<Float32Array>;
  /** Rules by name with their `action` (the current rule set). */
  rules: () => ReadonlyMap<string, { readonly action?: RuleAction | undefined }>;
  onBlock?: (kind: BlockKind) => void;
  /** Whether a response cache may store replies (then a request's PII findings are needed before the upstream call). */
  cacheStores?: boolean;
}

export interface Safety {
  signals: SafetySignals;
  stage: Stage;
  /** Rule-variable sources for one request. */
  inputs(ctx: RequestContext): SafetyInputs;
  /** Every signal with its detectors and positions (never values), for the explain endpoint. */
  explain(ctx: RequestContext): Promise<Record<string, unknown>>;
  /** Stops the PII scan worker (what it was given is scanned in place first). */
  close(): Promise<void>;
}

export async function createSafety(deps: SafetyDeps): Promise<Safety> {
  let examples: JailbreakExamples | undefined;
  if (deps.embedTexts) {
    const file = path.resolve(deps.rootDir, deps.examplesFile);
    const benign = deps.benignExamples === undefined
      ? undefined
      : { file: path.resolve(deps.rootDir, deps.benignExamples.file), optional: deps.benignExamples.optional };
    const benignFile = benign?.file;
    try {
      examples = await loadJailbreakExamples(file, deps.embedTexts, benign);
      deps.logger.info({ file, examples: examples.vectors.length, benign_file: benignFile, benign: examples.benign.length }, 'jailbreak examples loaded');
    } catch (err) {
      // Heuristics still score; the embedding part stays 0 until a restart with a readable file.
      deps.logger.warn({ file, err: (err as Error).message }, 'jailbreak examples not loaded; jailbreak_score uses heuristics only');
    }
  }
  const scanner = new PiiScanner();
  const signals = createSafetySignals({ config: deps.config, embed: deps.embed, examples: () => examples, scanner });
  const stage = createSafetyStage({
    signals,
    config: deps.config,
    ruleAction: (ctx) => ruleActionOf(ctx, deps.rules()),
    onBlock: deps.onBlock,
    cacheStores: deps.cacheStores,
    scanner,
  });
  return {
    signals,
    stage,
    inputs: (ctx) => ({
      pii: () => signals.pii(ctx),
      language: () => signals.language(ctx),
      jailbreak: () => signals.jailbreak(ctx),
    }),
    async explain(ctx) {
      const pii = await signals.pii(ctx);
      const jb = await signals.jailbreak(ctx);
      return {
        pii: unpack(pii.found).slice(0, pii.slots.length).flatMap((findings, i) =>
          findings.map((f) => ({ type: f.type, detector: f.detector, at: pii.slots[i].path.join('.'), start: f.start, end: f.end }))),
        pii_types: pii.types,
        language: signals.language(ctx),
        jailbreak: { score: jb.score, flagged: jb.flagged, similarity: jb.similarity, heuristic: jb.heuristic, cues: jb.cues },
      };
    },
    close: () => scanner.close(),
  };
}
