/**
 * `switchyard cache-eval`: precision and recall of the semantic cache on labelled question pairs, at the configured
 * threshold and guard and over sweeps; with `--fit`, fits the guard's pair scorer on the pairs (a fit / tune / report
 * rotation over folds, then a model file for `cache.guard.scorer_file`). Uses the default embedder (USE-lite; --quantized false for its float variant).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseFlags } from './flags.js';
import { PACKAGE_ROOT } from '../config/paths.js';
import { cacheConfigSchema } from '../cache/config.js';
import { evaluate, parsePairs, scorePairs, toFitSet, type PrecisionRecall, type ScoredPair } from '../cache/eval.js';
import { resolvePairScorer, type GuardOptions } from '../cache/guard.js';
import { DEFAULT_FIT, fitPairModel, formatPairModel, pairModelModule, rotate, type FitOptions, type OperatingPoint } from '../cache/pair-fit.js';
import type { PairScorer } from '../cache/pair-scorer.js';
import { precisionAtRecall, type Knob, type KnobPoint } from '../cache/operating-point.js';
import { defaultSemanticConfig } from '../semantic/config.js';
import { createBackend } from '../semantic/embedder/index.js';
import { EmbeddingStore, embedAll } from '../semantic/catalog/embedding-store.js';
import { userCacheDir } from '../semantic/offline.js';

const HELP = `Usage: switchyard cache-eval --data <pairs.jsonl> [--data <more.jsonl>] [options]

Measures the semantic cache on labelled pairs ({"a","b","duplicate"} per line): "a" is cached, "b" is the new query.
Prints precision/recall at the configured threshold and guard, the same on each half of the file (even and odd lines),
then sweeps: threshold with the guard, threshold with plain cosine, and the scorer's min_score at the threshold.

With --fit, fits the guard's pair scorer on all the --data files instead. Lines are split into folds by line number
(fold = line mod --folds). First an out-of-sample report: for each fold r, trees fitted on the folds other than r and r + 1,
the similarity threshold and the scorer's cutoff chosen on fold r + 1, numbers on fold r (every line reported once, by a
model that neither fitted nor tuned on it). Then the model written to --out: trees fitted on every fold but the last,
threshold and cutoff chosen on the last. Point cache.guard.scorer_file at that file (and cache.threshold at its threshold).

Options:
  --data <file>       pairs file (JSONL), repeatable, e.g. ../shared/data/pairs/qqp_dev_balanced_10k.jsonl
  --threshold <t>     similarity threshold (default: the cache.threshold default; with --fit, the only threshold tried
                      instead of ${DEFAULT_FIT.thresholds.join(', ')})
  --no-guard          evaluate plain cosine similarity
  --no-scorer         use the lexical guard rules only (guard.scorer: false)
  --model <file>      evaluate with a pair model written by --fit instead of the shipped one
  --min-score <p>     override the model's cutoff (guard.min_score)
  --limit <n>         use the first n pairs of each file only
  --quantized <b>     true (default) or false: the embedder's int8 or float variant
  --fit               fit a pair model on the --data files (needs --out)
  --out <file>        where --fit writes the model: .json, or .ts for the shipped src/cache/pair-weights.ts
  --recall <r>        --fit: threshold and cutoff keep this share of every file's duplicates on the tune fold with the best
                      precision (default ${DEFAULT_FIT.recall})
  --folds <k>         --fit: folds of the fit / tune / report split (default ${DEFAULT_FIT.folds}, at least 3)
  --at-recall <r>     also print precision at recall >= r: for the cosine threshold, the threshold with the guard and the
                      scorer's min_score, the setting with the best precision at that recall is chosen on one half of the
                      pairs (even/odd lines) and measured on the other; with --fit, the same as --recall
  --cache-dir <dir>   on-disk embedding cache (default: the user's cache folder, $XDG_CACHE_HOME/switchyard/embeddings
                      or ~/.cache/switchyard/embeddings; '' disables)
  --json              print JSON instead of tables
  -h, --help          show this help
`;

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const row = (r: PrecisionRecall): string =>
  `${r.threshold.toFixed(2)}  P ${pct(r.precision).padStart(6)}  R ${pct(r.recall).padStart(6)}  served ${String(r.served).padStart(5)}  false ${String(r.false_hits).padStart(4)}`;
const THRESHOLDS = [0.8, 0.83, 0.85, 0.87, 0.89, 0.9, 0.92, 0.94, 0.96];
const MIN_SCORES = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

interface Loaded { file: string; pairs: number; embedMs: number; scored: ScoredPair[]; dim: number; /** The embedder's vector space: what a fitted pair model is valid for. */ space: string }

async function loadScored(files: string[], limit: number | undefined, cacheDir: string, quantized: boolean): Promise<Loaded[]> {
  const texts = await Promise.all(files.map(async (f) => {
    try { return await readFile(f, 'utf8'); } catch (err) { throw new Error(`cannot read ${f}: ${(err as Error).message}`); }
  }));
  const embedder = await createBackend({ ...defaultSemanticConfig().embedder, quantized }, PACKAGE_ROOT);
  const store = cacheDir === '' ? undefined : new EmbeddingStore(resolve(cacheDir), embedder.id, embedder.dim);
  try {
    const out: Loaded[] = [];
    for (let k = 0; k < files.length; k++) {
      let pairs = parsePairs(texts[k], files[k]);
      if (limit !== undefined) pairs = pairs.slice(0, limit);
      const started = performance.now();
      const { vectors } = await embedAll(embedder, [...pairs.map((p) => p.a), ...pairs.map((p) => p.b)], store, 64);
      const va = vectors.slice(0, pairs.length), vb = vectors.slice(pairs.length);
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

async function fit(loaded: Loaded[], guard: GuardOptions, out: string, opts: FitOptions, json: boolean, quantized: boolean): Promise<number> {
  const sets = loaded.map((l) => toFitSet(basename(l.file), l.scored, guard));
  const ctx = { dim: loaded[0].dim, embedder: loaded[0].space };
  const report = rotate(sets, opts, ctx);
  const model = fitPairModel(sets, opts, ctx);
  const flags = [
    ...loaded.map((l) => `--data ${basename(l.file)}`), `--recall ${opts.recall}`, `--folds ${opts.folds}`,
    ...(opts.thresholds.length === 1 ? [`--threshold ${opts.thresholds[0]}`] : []), ...(quantized ? [] : ['--quantized false']), `--out ${basename(out)}`,
  ];
  await writeFile(out, out.endsWith('.ts') ? pairModelModule(model, `switchyard cache-eval --fit ${flags.join(' ')}`) : formatPairModel(model));
  if (json) {
    const files = sets.map((s) => ({ name: s.name, pairs: s.rows.length, duplicates: s.labels.filter(Boolean).length }));
    process.stdout.write(`${JSON.stringify({ recall: opts.recall, folds: opts.folds, thresholds: opts.thresholds, files, report, model: { out, threshold: model.threshold, cutoff: model.cutoff, trees: model.trees.length, split: model.fitted?.split } }, null, 2)}\n`);
    return 0;
  }
  const K = opts.folds;
  const point = (p: OperatingPoint) => `P ${pct(p.precision).padStart(6)}  R ${pct(p.recall).padStart(6)}  served ${String(p.served).padStart(5)}  false ${String(p.false_hits).padStart(4)}`;
  const lines = [
    `out-of-sample report: lines split into ${K} folds by line number (fold = line mod ${K}); for each fold r, trees fitted on the`,
    `other folds but r + 1, threshold (from ${opts.thresholds.join(', ')}) and cutoff chosen on fold r + 1 to keep ${pct(opts.recall)} of each`,
    `file's duplicates with the best precision, numbers on fold r:`,
  ];
  for (const f of report.folds) {
    lines.push(`  report fold ${f.reported} (tuned on ${f.tuned_on}): threshold ${f.threshold}, cutoff ${f.cutoff.toFixed(3)}`);
    for (const s of f.sets) lines.push(`    ${s.name.padEnd(32)} ${point(s.point)}`);
  }
  lines.push('  every line reported once (folds pooled):');
  for (const s of report.pooled) lines.push(`    ${s.name.padEnd(32)} ${point(s.point)}`);
  const all = sets.reduce((n, s) => n + s.rows.length, 0);
  lines.push(`model written to ${out}: ${String(model.fitted?.split)}; ${String(model.fitted?.pairs)} of ${all} pairs fitted (similarity >= ${opts.floor}); ` +
    `${model.trees.length} trees, threshold ${model.threshold}, cutoff ${model.cutoff}`);
  lines.push(out.endsWith('.ts') ? '' : `use it with cache.guard.scorer_file: ${out} (and cache.threshold: ${model.threshold})`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    data: { type: 'string', multiple: true }, threshold: { type: 'number', min: 0, max: 1 }, 'no-guard': { type: 'boolean', default: false },
    'no-scorer': { type: 'boolean', default: false }, model: { type: 'string' }, 'min-score': { type: 'number', min: 0, max: 1 },
    limit: { type: 'number', integer: true, min: 0 }, quantized: { type: 'string', default: 'true' }, fit: { type: 'boolean', default: false }, out: { type: 'string' },
    recall: { type: 'number', min: 0, max: 1 }, folds: { type: 'number', integer: true, min: 3 }, 'at-recall': { type: 'number', min: 0, max: 1 },
    'cache-dir': { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  }, HELP);
  if (typeof values === 'number') return values;
  const files = values.data ?? [];
  if (files.length === 0) { process.stderr.write(`--data is required\n\n${HELP}`); return 2; }
  if (values.quantized !== 'true' && values.quantized !== 'false') { process.stderr.write('--quantized must be true or false\n'); return 2; }
  const defaults = cacheConfigSchema.parse({});
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
    loaded = await loadScored(files, values.limit, values['cache-dir'] ?? userCacheDir(), values.quantized === 'true');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  const atRecall = values['at-recall'];
  // A model file brings the threshold it was chosen with.
  const threshold = values.threshold ?? (values.model !== undefined && scorer ? scorer.model.threshold : defaults.threshold);
  if (values.fit) {
    const opts: FitOptions = {
      ...DEFAULT_FIT, recall: recall ?? atRecall ?? DEFAULT_FIT.recall, folds: values.folds ?? DEFAULT_FIT.folds,
      thresholds: values.threshold !== undefined ? [values.threshold] : DEFAULT_FIT.thresholds,
    };
    return fit(loaded, guard, values.out!, opts, values.json, values.quantized === 'true');
  }
  const results = loaded.map((l) => report(l, threshold, guard, scorer, values.json, atRecall));
  if (values.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
  else process.stdout.write(`${results.join('\n\n')}\n`);
  return 0;
}
