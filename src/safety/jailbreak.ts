/**
 * The jailbreak score: the request's similarity to the nearest of the attack examples (reference-prompts/jailbreak.yaml,
 * embedded by the same embedder as intents but kept out of intent classification), calibrated to 0..1, combined with
 * the cheap heuristics as a noisy-OR. The examples are scored on their own so they never compete with intents.
 * Benign near-misses (reference-prompts/jailbreak_benign.yaml: honest questions about prompts, policies, roles, AI
 * systems) are the contrast: a request at least as near to one of them as to any attack gets no embedding part, so
 * talking about prompts is not taken for attacking one.
 */
import { readFile } from 'node:fs/promises';
import { parseYamlCategory } from '../semantic/catalog/parse.js';
import { jailbreakHeuristics } from './detectors/jailbreak-heuristics.js';

export interface JailbreakExamples {
  vectors: readonly Float32Array[];
  file: string;
  /** Benign near-misses, embedded (empty when none were loaded). */
  benign: readonly Float32Array[];
}

export interface JailbreakReport {
  score: number;
  /** Similarity to the nearest attack example (undefined when no embedding was available). */
  similarity?: number;
  /** Similarity to the nearest benign near-miss (undefined when none were loaded or no embedding was available). */
  benign_similarity?: number;
  /** Calibrated embedding part, 0..1. */
  embedding: number;
  /** Heuristic part, 0..1, and the cues that fired. */
  heuristic: number;
  cues: string[];
}

/** Where the benign near-misses come from; an `optional` file (the folder's default) may be absent. */
export interface BenignSource {
  file: string;
  optional: boolean;
}

/**
 * Reads and validates the examples file (file:line errors), then embeds every example; likewise the benign near-misses
 * when a file is named (without it, or when an optional one is absent, no contrast).
 */
export async function loadJailbreakExamples(
  file: string,
  embed: (texts: string[]) => Promise<Float32Array[]>,
  benignSource?: BenignSource,
): Promise<JailbreakExamples> {
  const vectors = await embed(await readJailbreakExamples(file));
  const benignTexts = benignSource === undefined ? [] : await readBenign(benignSource);
  const benign = benignTexts.length === 0 ? [] : await embed(benignTexts);
  return { vectors, file, benign };
}

async function readBenign(source: BenignSource): Promise<string[]> {
  try {
    return await readJailbreakExamples(source.file);
  } catch (err) {
    if (source.optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The examples of a jailbreak file, as text (for evaluation). */
export async function readJailbreakExamples(file: string): Promise<string[]> {
  const parsed = parseYamlCategory(file, await readFile(file, 'utf8'));
  if (!parsed.category) throw new Error(`jailbreak examples invalid:\n  ${parsed.errors.join('\n  ')}`);
  return parsed.category.examples;
}

export function nearestSimilarity(vec: Float32Array, examples: readonly Float32Array[]): number {
  let best = -1;
  for (const e of examples) {
    let s = 0;
    for (let d = 0; d < e.length; d++) s += vec[d]! * e[d]!;
    if (s > best) best = s;
  }
  return best;
}

export const calibrate = (sim: number, floor: number, ceiling: number): number =>
  Math.min(1, Math.max(0, (sim - floor) / (ceiling - floor)));

/**
 * Combines the heuristic text score with an optional embedding similarity. A request nearer to a benign near-miss than
 * to any attack example (`benignSimilarity`, when known) has the benign example's lead taken off its attack similarity
 * before calibration: talking about prompts is not taken for attacking one, while an attack that merely resembles a
 * benign question keeps most of its score.
 */
export function scoreJailbreak(
  text: string,
  similarity: number | undefined,
  calib: { similarity_floor: number; similarity_ceiling: number },
  benignSimilarity?: number,
): JailbreakReport {
  const h = jailbreakHeuristics(text);
  const lead = similarity !== undefined && benignSimilarity !== undefined ? Math.max(0, benignSimilarity - similarity) : 0;
  const embedding = similarity === undefined ? 0 : calibrate(similarity - lead, calib.similarity_floor, calib.similarity_ceiling);
  const score = 1 - (1 - h.score) * (1 - embedding);
  const r: JailbreakReport = { score: Math.round(score * 1e4) / 1e4, embedding, heuristic: h.score, cues: h.cues };
  if (similarity !== undefined) r.similarity = Math.round(similarity * 1e4) / 1e4;
  if (benignSimilarity !== undefined) r.benign_similarity = Math.round(benignSimilarity * 1e4) / 1e4;
  return r;
}
