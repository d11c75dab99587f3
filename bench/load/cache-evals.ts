/**
 * The semantic cache's quality section: precision and recall of the false-hit guard on the QQP balanced 10k and hard 2k
 * pair files, out of sample, from the fit / tune / report rotation of `switchyard cache-eval --fit` (the command that
 * produces the shipped pair scorer, with the same flags): the lines of both files are split into folds by line number;
 * each fold is scored by a scorer whose trees and vector weights were fitted on the other folds but the next one, and
 * whose similarity threshold and cutoff were chosen on that next fold; the folds are pooled, so every pair is scored once
 * by a model that neither fitted nor tuned on it. The model the command also writes goes to the scratch folder.
 */
import { join } from 'node:path';
import type { EvalDef } from './evals.js';
import { embeddingCache, variantArgs, variantSuffix, type Variant } from './eval-variant.js';

const FILES = [{ file: 'qqp_dev_balanced_10k.jsonl', pairs: 10_000 }, { file: 'qqp_dev_hard_2k.jsonl', pairs: 2000 }];
/** The flags of the shipped model's command (src/cache/pair-weights.ts): the share of duplicates tuned for, the folds. */
const RECALL = 0.41;
const FOLDS = 5;

interface Point { precision: number; recall: number; served: number; false_hits: number }
interface FoldJson { reported: number; tuned_on: number; threshold: number; cutoff: number; sets: Array<{ name: string; point: Point }> }
interface FitJson {
  recall: number;
  folds: number;
  thresholds: number[];
  files?: Array<{ name: string; pairs: number; duplicates: number }>;
  report: { folds: FoldJson[]; pooled: Array<{ name: string; point: Point }> };
  model: { threshold: number; cutoff: number; split?: string };
}

const r4 = (x: number): number => Number(x.toFixed(4));
const point = (p: Point) => ({ precision: r4(p.precision), recall: r4(p.recall), served: p.served, true_hits: p.served - p.false_hits, false_hits: p.false_hits });

function summariseRotation(json: Record<string, unknown>): Record<string, unknown> {
  const j = json as unknown as FitJson;
  return {
    tune_recall: j.recall,
    folds: j.folds,
    thresholds_tried: j.thresholds,
    files: j.files,
    pooled: j.report.pooled.map((s) => ({ name: s.name, ...point(s.point) })),
    per_fold: j.report.folds.map((f) => ({
      reported: f.reported, tuned_on: f.tuned_on, threshold: f.threshold, cutoff: f.cutoff,
      sets: f.sets.map((s) => ({ name: s.name, ...point(s.point) })),
    })),
  };
}

export function cacheEval(variant: Variant = 'default'): EvalDef {
  return {
    section: `cache_eval${variantSuffix(variant)}`,
    kind: 'cache',
    command: 'cache-eval',
    needs: FILES.map((f) => `pairs/${f.file}`),
    async prepare(ctx) {
      const limit = ctx.quick ? 1000 : undefined;
      const cache = embeddingCache(ctx.quick);
      return {
        args: [
          '--fit', ...FILES.flatMap((f) => ['--data', join(ctx.dataDir, 'pairs', f.file)]), '--recall', String(RECALL), '--folds', String(FOLDS),
          '--out', join(ctx.workDir, `pair-model${variantSuffix(variant)}.json`), ...(limit !== undefined ? ['--limit', String(limit)] : []),
          '--cache-dir', cache, ...variantArgs(variant), '--json',
        ],
        setup: {
          datasets: FILES.map((f) => `pairs/${f.file} (${limit !== undefined ? `first ${limit} of ${f.pairs}` : `all ${f.pairs}`} pairs)`).join(', '),
          sample: `out of sample, ${FOLDS}-fold rotation: the lines of both files are split into ${FOLDS} folds by line number (fold = line mod ${FOLDS}); ` +
            `fold r is scored by a pair scorer whose trees and vector weights were fitted on the other folds but r + 1 and whose similarity ` +
            `threshold and cutoff were chosen on fold r + 1 (the best precision that keeps ${RECALL * 100}% of each file's duplicates there); ` +
            'the folds are pooled, so every pair is scored once, by a model that neither fitted nor tuned on it. The shipped model ' +
            `(src/cache/pair-weights.ts) comes from the same command, fitted on folds 0–${FOLDS - 2} and tuned on fold ${FOLDS - 1}: these ` +
            'figures measure the procedure that made it, not that one model on its own training pairs',
          ...(variant === 'float32' ? { embedder_variant: 'float32 (--quantized false): every scorer of the rotation fitted and scored on the float vectors' } : {}),
          embedding_cache: cache === '' ? 'off' : cache,
        },
      };
    },
    summarise: summariseRotation,
  };
}
