/**
 * Detector evaluation on labelled sets: PII precision/recall on texts with inserted synthetic values (positives) and the
 * untouched texts (negatives); jailbreak detection by k-fold cross-validation over the attack examples (each fold's
 * examples are scored against the other folds only) against ordinary prompts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { detectPii } from '../detectors/pii.js';
import { PII_TYPES, type PiiType } from '../detectors/types.js';
import { nearestSimilarity, scoreJailbreak } from '../jailbreak.js';
import { insertPii, seeded } from './synthetic.js';

export const PROMPT_SETS = ['prompts/mt_bench.jsonl', 'prompts/vicuna_bench.jsonl', 'prompts/mmlu_pro_sr_exemplars.jsonl', 'clinc150/val.jsonl', 'banking77/train.jsonl'];

/** Texts of the shared prompt sets under `dataDir` (missing files are skipped), at most `limit` per file. */
export async function loadPrompts(dataDir: string, limit: number): Promise<string[]> {
  const out: string[] = [];
  for (const f of PROMPT_SETS) {
    let raw: string;
    try { raw = await readFile(path.join(dataDir, f), 'utf8'); } catch { continue; }
    const lines = raw.split('\n').filter((l) => l.trim() !== '');
    const step = Math.max(1, Math.floor(lines.length / limit));
    for (let i = 0; i < lines.length && out.length < Number.MAX_SAFE_INTEGER; i += step) {
      const t = (JSON.parse(lines[i]!) as { text?: unknown }).text;
      if (typeof t === 'string') out.push(t);
      if ((i / step) + 1 >= limit) break;
    }
  }
  return out;
}

export interface PiiEval {
  negatives: number;
  false_positive_texts: number;
  false_positive_rate: number;
  per_type: Record<string, { inserted: number; found: number; recall: number }>;
  precision: number;
  recall: number;
}

export function evaluatePii(texts: readonly string[], seed = 7): PiiEval {
  const rng = seeded(seed);
  let fpTexts = 0;
  let fp = 0;
  for (const t of texts) {
    const n = detectPii(t).length;
    if (n > 0) fpTexts++;
    fp += n;
  }
  const perType: PiiEval['per_type'] = {};
  let tp = 0;
  let inserted = 0;
  PII_TYPES.forEach((type: PiiType) => {
    let found = 0;
    texts.forEach((t) => {
      const s = insertPii(t, type, rng);
      const hits = detectPii(s.text);
      if (hits.some((h) => h.type === type && h.start <= s.start && h.end >= s.end)) found++;
      // Findings beyond the inserted value are false positives (the base text is the same negative as above).
      fp += hits.filter((h) => !(h.start < s.end && s.start < h.end)).length - detectPii(t).length;
    });
    perType[type] = { inserted: texts.length, found, recall: found / Math.max(1, texts.length) };
    tp += found;
    inserted += texts.length;
  });
  return {
    negatives: texts.length,
    false_positive_texts: fpTexts,
    false_positive_rate: fpTexts / Math.max(1, texts.length),
    per_type: perType,
    precision: tp / Math.max(1, tp + Math.max(0, fp)),
    recall: tp / Math.max(1, inserted),
  };
}

/** Prompts scored as negatives, with the ones flagged (text shown: they are the project's own benign prompts). */
export interface NegativeSet {
  texts: readonly string[];
  vecs: readonly Float32Array[];
}

export interface JailbreakEval {
  folds: number;
  attacks: number;
  ordinary: number;
  threshold: number;
  /** Benign near-misses used as the contrast set (the fit half); 0 = no contrast. */
  benign_examples: number;
  /** The benign report half (never fitted on): how many the check flags. */
  benign_report?: { prompts: number; flagged: number; false_positive_rate: number; flagged_texts: string[] };
  /**
   * The attack report set (never fitted or tuned on), scored against every attack example: recall only, no texts (the
   * rows missed are not shown, so they cannot steer tuning).
   */
  attack_report?: { prompts: number; caught: number; recall: number; heuristics_recall: number; embedding_recall: number };
  /**
   * k-fold over every attack row (examples and report set together): each held-out row's embedding part is scored
   * against the other folds' rows only. The heuristics were tuned on the examples, so their share is in-sample there.
   */
  all_rows?: { attacks: number; recall: number; heuristics_recall: number; embedding_recall: number };
  combined: { recall: number; false_positive_rate: number; precision: number };
  heuristics_only: { recall: number; false_positive_rate: number };
  embedding_only: { recall: number; false_positive_rate: number };
  /** Similarity to the nearest attack example: held-out attacks vs ordinary prompts (mean). */
  similarity: { attacks_mean: number; ordinary_mean: number; ordinary_p99: number };
}

export function evaluateJailbreak(
  attacks: readonly string[],
  attackVecs: readonly Float32Array[],
  ordinary: readonly string[],
  ordinaryVecs: readonly Float32Array[],
  calib: { similarity_floor: number; similarity_ceiling: number; threshold: number },
  folds = 5,
  contrast: { benignVecs: readonly Float32Array[]; report?: NegativeSet; attackReport?: NegativeSet } = { benignVecs: [] },
): JailbreakEval {
  const benignSim = (v: Float32Array): number | undefined => (contrast.benignVecs.length > 0 ? nearestSimilarity(v, contrast.benignVecs) : undefined);
  let tp = 0, fpCount = 0, hTp = 0, eTp = 0, hFp = 0, eFp = 0;
  const attackSims: number[] = [];
  const ordinarySims: number[] = [];
  for (let k = 0; k < folds; k++) {
    const train = attackVecs.filter((_, i) => i % folds !== k);
    attacks.forEach((a, i) => {
      if (i % folds !== k) return;
      const sim = nearestSimilarity(attackVecs[i]!, train);
      attackSims.push(sim);
      const r = scoreJailbreak(a, sim, calib, benignSim(attackVecs[i]!));
      if (r.score >= calib.threshold) tp++;
      if (r.heuristic >= calib.threshold) hTp++;
      if (r.embedding >= calib.threshold) eTp++;
    });
    // Ordinary prompts are split across folds too, so each is scored once.
    ordinary.forEach((o, i) => {
      if (i % folds !== k) return;
      const sim = nearestSimilarity(ordinaryVecs[i]!, train);
      ordinarySims.push(sim);
      const r = scoreJailbreak(o, sim, calib, benignSim(ordinaryVecs[i]!));
      if (r.score >= calib.threshold) fpCount++;
      if (r.heuristic >= calib.threshold) hFp++;
      if (r.embedding >= calib.threshold) eFp++;
    });
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const sorted = [...ordinarySims].sort((a, b) => a - b);
  const A = attacks.length, O = ordinary.length;
  let benignReport: JailbreakEval['benign_report'];
  if (contrast.report) {
    // Scored against every attack example (nothing of the report half is in any fitted set).
    const flagged = contrast.report.texts.filter((t, i) => {
      const v = contrast.report!.vecs[i]!;
      return scoreJailbreak(t, nearestSimilarity(v, attackVecs), calib, benignSim(v)).score >= calib.threshold;
    });
    const n = contrast.report.texts.length;
    benignReport = { prompts: n, flagged: flagged.length, false_positive_rate: flagged.length / Math.max(1, n), flagged_texts: flagged };
  }
  let attackReport: JailbreakEval['attack_report'];
  let allRows: JailbreakEval['all_rows'];
  if (contrast.attackReport && contrast.attackReport.texts.length > 0) {
    const rep = contrast.attackReport;
    const r = recallOf(rep.texts, rep.vecs.map((v) => nearestSimilarity(v, attackVecs)), rep.vecs, calib, benignSim);
    attackReport = { prompts: rep.texts.length, caught: r.caught, recall: r.recall, heuristics_recall: r.heuristics, embedding_recall: r.embedding };
    const texts = [...attacks, ...rep.texts];
    const vecs = [...attackVecs, ...rep.vecs];
    const sims = vecs.map((v, i) => nearestSimilarity(v, vecs.filter((_, j) => j % folds !== i % folds)));
    const all = recallOf(texts, sims, vecs, calib, benignSim);
    allRows = { attacks: texts.length, recall: all.recall, heuristics_recall: all.heuristics, embedding_recall: all.embedding };
  }
  return {
    folds, attacks: A, ordinary: O, threshold: calib.threshold, benign_examples: contrast.benignVecs.length,
    ...(benignReport ? { benign_report: benignReport } : {}),
    ...(attackReport ? { attack_report: attackReport } : {}),
    ...(allRows ? { all_rows: allRows } : {}),
    combined: { recall: tp / A, false_positive_rate: fpCount / O, precision: tp / Math.max(1, tp + fpCount) },
    heuristics_only: { recall: hTp / A, false_positive_rate: hFp / O },
    embedding_only: { recall: eTp / A, false_positive_rate: eFp / O },
    similarity: { attacks_mean: mean(attackSims), ordinary_mean: mean(ordinarySims), ordinary_p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0 },
  };
}

/** Recall of attack rows given each row's similarity to its reference attacks (combined, heuristics only, embedding only). */
function recallOf(
  texts: readonly string[],
  sims: readonly number[],
  vecs: readonly Float32Array[],
  calib: { similarity_floor: number; similarity_ceiling: number; threshold: number },
  benignSim: (v: Float32Array) => number | undefined,
): { caught: number; recall: number; heuristics: number; embedding: number } {
  let caught = 0, h = 0, e = 0;
  texts.forEach((t, i) => {
    const r = scoreJailbreak(t, sims[i]!, calib, benignSim(vecs[i]!));
    if (r.score >= calib.threshold) caught++;
    if (r.heuristic >= calib.threshold) h++;
    if (r.embedding >= calib.threshold) e++;
  });
  const n = Math.max(1, texts.length);
  return { caught, recall: caught / n, heuristics: h / n, embedding: e / n };
}
