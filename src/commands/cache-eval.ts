/**
 * `switchyard cache-eval`: precision and recall of the semantic cache on labelled question pairs, at the configured
 * threshold and guard and over sweeps; with `--fit`, fits the guard's pair scorer on the pairs (cross-validated report,
 * then a model file for `cache.guard.scorer_file`). Uses the default embedder (USE-lite; --quantized false for its float variant).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseFlags } from './flags.js';
import { PACKAGE_ROOT } from '../config/paths.js';
import { cacheConfigSchema } from '../cache/config.js';
import { evaluate, parsePairs, scorePairs, toFitSet, type PrecisionRecall, type ScoredPair } from '../cache/eval.js';
import { resolvePairScorer, type GuardOptions } from '../cache/guard.js';
import { DEFAULT_FIT, crossValidate, fitPairModel, formatPairModel, pairModelModule } from '../cache/pair-fit.js';
import type { PairScorer } from '../cache/pair-scorer.js';
import { precisionAtRecall, type Knob, type KnobPoint } from '../cache/operating-point.js';
import { defaultSemanticConfig } from '../semantic/config.js';
import { createBackend } from '../semantic/embedder/index.js';

const HELP = `Usage: switchyard cache-eval --data <pairs.jsonl> [--data <more.jsonl>] [options]

Measures the semantic cache on labelled pairs ({"a","b","duplicate"} per line): "a" is cached, "b" is the new query.
Prints precision/recall at the configured threshold and guard, the same on each half of the file (even and odd lines),
then sweeps: threshold with the guard, threshold with plain cosine, and the scorer's min_score at the threshold.

With --fit, fits the guard's pair scorer on all the --data files instead: first a cross-validation (fit on the even lines
of every file, report on the odd lines, and the reverse), then the model fitted on every line, written to --out. Point
cache.guard.scorer_file at that file to use it.

Options:
  --data <file>       pairs file (JSONL), repeatable, e.g. ../shared/data/pairs/qqp_dev_balanced_10k.jsonl
  --threshold <t>     similarity threshold (default: the cache.threshold default)
  --no-guard          evaluate plain cosine similarity
  --no-scorer         use the lexical guard rules only (guard.scorer: false)
  --model <file>      evaluate with a pair model written by --fit instead of the shipped one
  --min-score <p>     override the model's cutoff (guard.min_score)
  --limit <n>         use the first n pairs of each file only
  --quantized <b>     true (default) or false: the embedder's int8 or float variant
  --fit               fit a pair model on the --data files (needs --out)
  --out <file>        where --fit writes the model: .json, or .ts for the shipped src/cache/pair-weights.ts
  --recall <r>        --fit: the cutoff keeps this share of every file's duplicates (default ${DEFAULT_FIT.recall})
  --at-recall <r>     also print precision at recall >= r: for the cosine threshold, the threshold with the guard and the
                      scorer's min_score, the setting with the best precision at that recall is chosen on one half of the
                      pairs (even/odd lines) and measured on the other; with --fit, the recall of "best P at R" (default 0.4)
  --json              print JSON instead of tables
  -h, --help          show this help
`;

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const row = (r: PrecisionRecall): string =>
  `${r.threshold.toFixed(2)}  P ${pct(r.precision).padStart(6)}  R ${pct(r.recall).padStart(6)}  served ${String(r.served).padStart(5)}  false ${String(r.false_hits).padStart(4)}`;
const THRESHOLDS = [0.8, 0.83, 0.85, 0.87, 0.89, 0.9, 0.92, 0.94, 0.96];
const MIN_SCORES = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

interface Loaded { file: string; pairs: number; embedMs: number; scored: ScoredPair[]; dim: number; /** The embedder's vector space: what a fitted pair model is valid for. */ space: string }

async function loadScored(files: string[], limit: number | undefined, quantized: boolean): Promise<Loaded[]> {
  const texts = await Promise.all(files.map(async (f) => {
    try { return await readFile(f, 'utf8'); } catch (err) { throw new Error(`cannot read ${f}: ${(err as Error).message}`); }
  }));
  const embedder = await createBackend({ ...defaultSemanticConfig().embedder, quantized }, PACKAGE_ROOT);
  try {
    const out: Loaded[] = [];
    for (let k = 0; k < files.length; k++) {
      let pairs = parsePairs(texts[k], files[k]);
      if (limit !== undefined) pairs = pairs.slice(0, limit);
      const started = performance.now();
      const va: Float32Array[] = [], vb: Float32Array[] = [];
      for (let i = 0; i < pairs.length; i += 64) {
        const batch = pairs.slice(i, i + 64);
        va.push(...(await embedder.embed(batch.map((p) => p.a))));
        vb.push(...(await embedder.embed(batch.map((p) => p.b))));
      }
      out.push({ file: files[k], pairs: pairs.length, embedMs: performance.now() - started, scored: scorePairs(pairs, va, vb), dim: embedder.dim, space: embedder.space ?? embedder.id });
    }
    return out;
  } finally {
    await embedder.close();
  }
}

const point = (p: KnobPoint | undefined): string =>
  p ? `${p.setting.toFixed(3)}: P ${pct(p.precision).padStart(6)} R ${pct(p.recall).padStart(6)}` : 'no setting reaches the recall';

function report(l: Loaded, threshold: number, guard: GuardOptions, scorer: PairScorer | undefined, json: boolean, atRecall: number | undefined) {
  const { scored } = l;
  const halves = [0, 1].map((h) => evaluate(scored.filter((_, i) => i % 2 === h), threshold, guard, scorer));
  const result = {
    data: l.file, pairs: l.pairs, embed_ms: Math.round(l.embedMs), threshold, guard,
    scorer_cutoff: guard.scorer && scorer ? guard.min_score ?? scorer.model.cutoff : undefined,
    configured: evaluate(scored, threshold, guard, scorer),
    halves: { even: halves[0], odd: halves[1] },
    sweep_guard: THRESHOLDS.map((t) => evaluate(scored, t, { ...guard, enabled: true }, scorer)),
    sweep_cosine: THRESHOLDS.map((t) => evaluate(scored, t, { ...guard, enabled: false })),
    sweep_min_score: guard.scorer
      ? MIN_SCORES.map((m) => ({ min_score: m, ...evaluate(scored, threshold, { ...guard, enabled: true, min_score: m }, scorer) }))
      : [],
    at_recall: atRecall === undefined ? undefined : knobsOf(guard).map((k) => precisionAtRecall(k, scored, atRecall, threshold, guard, scorer)),
  };
  if (json) return result;
  const recallLines = (result.at_recall ?? []).flatMap((r) => [
    `  ${r.knob}:`,
    ...r.folds.map((f) => `    chosen on ${f.chosen_on} lines ${point(f.chosen)}  ->  on the ${f.chosen_on === 'even' ? 'odd' : 'even'} lines ${point(f.held_out)}`),
    `    best on all pairs (in sample) ${point(r.in_sample)}`,
  ]);
  const decision = !guard.enabled ? 'off' : guard.scorer ? `on, scorer cutoff ${result.scorer_cutoff}` : 'on, rules only';
  return [
    `${l.pairs} pairs from ${l.file} (embedded in ${(l.embedMs / 1000).toFixed(1)} s)`,
    `configured (threshold ${threshold}, guard ${decision}):`,
    `  all   ${row(result.configured)}`, `  even  ${row(halves[0])}`, `  odd   ${row(halves[1])}`,
    `  guard rejections: ${JSON.stringify(result.configured.rejected)}`,
    'sweep with guard:', ...result.sweep_guard.map((r) => `  ${row(r)}`),
    'sweep, plain cosine:', ...result.sweep_cosine.map((r) => `  ${row(r)}`),
    ...(guard.scorer ? [`sweep of min_score at ${threshold}:`, ...result.sweep_min_score.map((r) => `  ${r.min_score.toFixed(2)}  ${row(r).slice(6)}`)] : []),
    ...(atRecall === undefined ? [] : [`precision at recall >= ${pct(atRecall)} (setting chosen on one half, measured on the other):`, ...recallLines]),
  ].join('\n');
}

/** The knobs worth sweeping with this guard. */
const knobsOf = (guard: GuardOptions): Knob[] =>
  ['cosine_threshold', ...(guard.enabled ? ['guard_threshold' as const] : []), ...(guard.enabled && guard.scorer ? ['min_score' as const] : [])];

async function fit(loaded: Loaded[], threshold: number, guard: GuardOptions, out: string, recall: number, json: boolean, reportRecall: number): Promise<number> {
  const sets = loaded.map((l) => toFitSet(basename(l.file), l.scored, threshold, guard));
  const opts = { ...DEFAULT_FIT, recall };
  const ctx = { threshold, dim: loaded[0].dim, embedder: loaded[0].space };
  const folds = crossValidate(sets, opts, ctx, reportRecall);
  const model = fitPairModel(sets, opts, ctx);
  const command = `switchyard cache-eval --fit ${loaded.map((l) => `--data ${basename(l.file)}`).join(' ')} --recall ${recall} --out ${basename(out)}`;
  await writeFile(out, out.endsWith('.ts') ? pairModelModule(model, command) : formatPairModel(model));
  if (json) {
    process.stdout.write(`${JSON.stringify({ threshold, recall, cross_validation: folds, model: { out, cutoff: model.cutoff, trees: model.trees.length } }, null, 2)}\n`);
    return 0;
  }
  const lines = [`cross-validation (threshold ${threshold}, cutoff chosen to keep ${pct(recall)} of each file's duplicates on the fitted half):`];
  for (const f of folds) {
    lines.push(`  fitted on ${f.fitted_on} lines, cutoff ${f.cutoff.toFixed(3)}, reported on the ${f.fitted_on === 'even' ? 'odd' : 'even'} lines:`);
    for (const s of f.sets) {
      const a = s.at_cutoff;
      lines.push(`    ${s.name.padEnd(32)} P ${pct(a.precision).padStart(6)}  R ${pct(a.recall).padStart(6)}  false ${String(a.false_hits).padStart(4)}   best P at R >= ${pct(reportRecall)}: ${pct(s.best_precision_at_recall)}`);
    }
  }
  const all = sets.reduce((n, s) => n + s.rows.length, 0);
  lines.push(`model fitted on every line (${String(model.fitted?.pairs)} of ${all} pairs have similarity >= ${opts.floor}): ${model.trees.length} trees, cutoff ${model.cutoff}; written to ${out}`);
  lines.push(out.endsWith('.ts') ? '' : `use it with cache.guard.scorer_file: ${out}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    data: { type: 'string', multiple: true }, threshold: { type: 'number', min: 0, max: 1 }, 'no-guard': { type: 'boolean', default: false },
    'no-scorer': { type: 'boolean', default: false }, model: { type: 'string' }, 'min-score': { type: 'number', min: 0, max: 1 },
    limit: { type: 'number', integer: true, min: 0 }, quantized: { type: 'string', default: 'true' }, fit: { type: 'boolean', default: false }, out: { type: 'string' },
    recall: { type: 'number', min: 0, max: 1 }, 'at-recall': { type: 'number', min: 0, max: 1 },
    json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  }, HELP);
  if (typeof values === 'number') return values;
  const files = values.data ?? [];
  if (files.length === 0) { process.stderr.write(`--data is required\n\n${HELP}`); return 2; }
  if (values.quantized !== 'true' && values.quantized !== 'false') { process.stderr.write('--quantized must be true or false\n'); return 2; }
  const defaults = cacheConfigSchema.parse({});
  const threshold = values.threshold ?? defaults.threshold;
  const { 'min-score': minScore, recall } = values;
  if (values.fit && values.out === undefined) { process.stderr.write('--fit needs --out <file>\n'); return 2; }
  const guard: GuardOptions = {
    ...defaults.guard, enabled: defaults.guard.enabled && !values['no-guard'], scorer: defaults.guard.scorer && !values['no-scorer'],
    scorer_file: values.model, min_score: minScore,
  };
  let scorer: PairScorer | undefined;
  let loaded: Loaded[];
  try {
    scorer = values.fit ? undefined : resolvePairScorer(guard);
    loaded = await loadScored(files, values.limit, values.quantized !== 'false');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  const atRecall = values['at-recall'];
  if (values.fit) return fit(loaded, threshold, guard, values.out!, recall ?? DEFAULT_FIT.recall, values.json, atRecall ?? 0.4);
  const results = loaded.map((l) => report(l, threshold, guard, scorer, values.json, atRecall));
  if (values.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
  else process.stdout.write(`${results.join('\n\n')}\n`);
  return 0;
}
