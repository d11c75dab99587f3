/**
 * The quality evaluations of docs/benchmarks.md: the summary rows (with the cache's precision target judged from counts), what
 * each figure is out of sample for, and each evaluation section's tables (intent classification, semantic cache, safety).
 */
import type { BenchResults, SectionResult } from './report.js';
import { arr, esc, fmt, num, obj, pct, table, type Obj } from './report-format.js';

export const EVAL_TITLE: Record<string, string> = {
  eval_clinc150_10: 'Intent classification: CLINC150, 10 reference prompts per intent',
  eval_clinc150_100: 'Intent classification: CLINC150, 100 reference prompts per intent',
  eval_banking77: 'Intent classification: Banking77, 10 reference prompts per label',
  cache_eval: 'Semantic cache: QQP balanced 10k and hard 2k, out of sample (fold rotation)',
  eval_clinc150_10_float32: 'Intent classification: CLINC150, 10 reference prompts per intent, float embedder (the int8 comparison)',
  cache_eval_float32: 'Semantic cache: QQP balanced 10k and hard 2k, out of sample, float embedder (the int8 comparison)',
  safety_eval: 'Safety: PII and jailbreak detection',
};
export const EVAL_ORDER = [
  'eval_clinc150_10', 'eval_clinc150_100', 'eval_banking77', 'cache_eval',
  'eval_clinc150_10_float32', 'cache_eval_float32', 'safety_eval',
];

/** One evaluation section's body, by its kind. */
export function evalSection(name: string, s: SectionResult): string {
  const n = obj(s.numbers);
  if (name.startsWith('eval_')) return intentSection(n, s);
  if (name.startsWith('cache_eval')) return cacheSection(n, s);
  return safetySection(n, s);
}

function setupLines(n: Obj, s: SectionResult): string[] {
  const setup = obj(n.setup);
  const out: string[] = [];
  for (const [k, v] of Object.entries(setup)) out.push(`- ${k.replace(/_/g, ' ')}: ${String(v)}`);
  if (n.command !== undefined) out.push(`- command: \`${String(n.command)}\``);
  if (s.seconds !== undefined) out.push(`- wall time: ${fmt(s.seconds, 1)} s (data preparation, embedder start, embedding and scoring)`);
  return out;
}

function intentSection(n: Obj, s: SectionResult): string {
  const out: string[] = [...setupLines(n, s), ''];
  const lat = obj(n.latency);
  out.push(table(['measure', 'value'], [
    ['rows scored (in scope / out of scope)', `${num(n.rows)} (${num(n.in_scope_rows)} / ${num(n.out_of_scope_rows)})`],
    ['in-scope accuracy (with the folder\'s rejection thresholds)', pct(n.in_scope_accuracy)],
    ['top-1 accuracy (ranking winner, rejection ignored)', pct(n.top1_accuracy_no_rejection)],
    ['out-of-scope recall (rows labelled none rejected)', n.oos_recall === null ? 'n/a (no out-of-scope rows)' : pct(n.oos_recall)],
    ['macro precision / recall / F1 over intents', `${pct(n.macro_precision)} / ${pct(n.macro_recall)} / ${pct(n.macro_f1)}`],
    ['classify p50 / p99 (embedding excluded)', `${num(lat.classify_p50_ms, 3)} / ${num(lat.classify_p99_ms, 3)} ms`],
    ['embedding, batched, per uncached scored row', Number(lat.embed_ms_per_row_batched) > 0 ? `${num(lat.embed_ms_per_row_batched, 2)} ms` : '– (every scored row came from the embedding cache)'],
    ['classifier build from the reference embeddings (embedding excluded)', `${num(Math.round(Number(lat.build_ms)), 0)} ms`],
    ['embedder, classifier method', `${esc(n.embedder)}, ${esc(n.method)}`],
  ]));
  const low = arr(n.lowest_f1);
  const conf = arr(n.most_confused);
  if (low.length > 0) {
    out.push('\nLowest-F1 intents:\n');
    out.push(table(['intent', 'precision', 'recall', 'support'], low.map((c) => [esc(c.intent), pct(c.precision), pct(c.recall), num(c.support)])));
  }
  if (conf.length > 0) {
    out.push('\nMost confused (gold → predicted):\n');
    out.push(table(['gold', 'predicted', 'count'], conf.map((c) => [esc(c.gold), esc(c.predicted), num(c.count)])));
  }
  out.push('');
  return out.join('\n');
}

/** How each QQP file is named in the quality table. */
const PAIR_FILE_TITLE: Record<string, string> = { 'qqp_dev_balanced_10k.jsonl': 'QQP balanced 10k', 'qqp_dev_hard_2k.jsonl': 'QQP hard 2k (look-alike questions)' };
/** The cache's quality target: precision at a recall, out of sample, on the balanced file. */
const CACHE_TARGET = { file: 'qqp_dev_balanced_10k.jsonl', precision: 0.9, recall: 0.4 };

/**
 * "met" / "not met" against the cache target, from the served and true-hit counts (not from rounded figures), on the
 * pooled folds; with how many single report folds reach it, so a pooled figure at the edge reads as one.
 */
function cacheTarget(p: Obj, folds: Obj[]): string {
  if (typeof p.true_hits !== 'number' || typeof p.served !== 'number' || typeof p.recall !== 'number') return '–';
  const met = p.true_hits >= CACHE_TARGET.precision * p.served && p.recall >= CACHE_TARGET.recall;
  const own = folds.map((f) => arr(f.sets).find((x) => x.name === p.name)).filter((x): x is Obj => x !== undefined);
  const reaching = own.filter((x) => Number(x.precision) >= CACHE_TARGET.precision && Number(x.recall) >= CACHE_TARGET.recall).length;
  const perFold = own.length > 0 ? ` on the pooled folds; ${reaching} of ${own.length} single folds reach it` : '';
  return `P ≥ ${pct(CACHE_TARGET.precision, 0)} at R ≥ ${pct(CACHE_TARGET.recall, 0)}: **${met ? 'met' : 'not met'}**${perFold}`;
}

function cacheSection(n: Obj, s: SectionResult): string {
  const out: string[] = [...setupLines(n, s), ''];
  const files = new Map(arr(n.files).map((f) => [String(f.name), f]));
  const folds = arr(n.per_fold);
  out.push(`Every pair scored once, by the scorer of its fold (folds pooled); "a" is cached, "b" is the new query. Precision = served hits that are true duplicates; recall = duplicates served.\n`);
  out.push(table(['pairs', 'scored', 'precision', 'recall', 'served', 'false hits', 'target'], arr(n.pooled).map((p) => [
    esc(p.name), num(files.get(String(p.name))?.pairs), `${pct(p.precision, 2)} (${num(p.true_hits)} of ${num(p.served)})`, pct(p.recall), num(p.served), num(p.false_hits),
    p.name === CACHE_TARGET.file ? cacheTarget(p, folds) : '–',
  ])));
  if (folds.length > 0) {
    out.push('\nPer report fold (threshold and cutoff chosen on the tune fold):\n');
    const names = arr(folds[0].sets).map((x) => String(x.name));
    out.push(table(['report fold', 'tuned on', 'threshold', 'cutoff', ...names.map((x) => `${x}: precision / recall`)], folds.map((f) => [
      num(f.reported), num(f.tuned_on), num(f.threshold), num(f.cutoff, 3), ...arr(f.sets).map((x) => `${pct(x.precision)} / ${pct(x.recall)}`),
    ])));
  }
  out.push('');
  return out.join('\n');
}

function safetySection(n: Obj, s: SectionResult): string {
  const out: string[] = [...setupLines(n, s), ''];
  const pii = obj(n.pii);
  out.push(`**PII** on ${num(n.prompts)} prompts (each type inserted once into every prompt; the untouched prompts are the negatives): precision ${pct(pii.precision)}, recall ${pct(pii.recall)}, untouched prompts flagged ${num(pii.false_positive_texts)} (${pct(pii.false_positive_rate, 2)}).\n`);
  out.push(table(['type', 'inserted', 'found', 'recall'], Object.entries(obj(pii.per_type)).map(([t, v]) => [t, num(obj(v).inserted), num(obj(v).found), pct(obj(v).recall)])));
  const jb = obj(n.jailbreak);
  if (Object.keys(jb).length > 0) {
    out.push(`\n**Jailbreak**: ${num(jb.folds)}-fold cross-validation over ${num(jb.attacks)} attack examples against ${num(jb.ordinary)} ordinary prompts, similarity threshold ${num(jb.threshold)}.\n`);
    const r = (name: string, x: Obj): string[] => [name, pct(x.recall), pct(x.false_positive_rate, 2), x.precision === undefined ? '–' : pct(x.precision)];
    out.push(table(['detector', 'recall', 'false-positive rate', 'precision'], [r('combined', obj(jb.combined)), r('heuristics only', obj(jb.heuristics_only)), r('embedding only', obj(jb.embedding_only))]));
    out.push('\nThe cues were tuned on those attack examples, so the recall above is in sample for the heuristics. Out of sample:');
    const ar = obj(jb.attack_report);
    if (Object.keys(ar).length > 0) out.push(`- attack report set (never tuned on): recall **${pct(ar.recall)}** (${num(ar.caught)} of ${num(ar.prompts)}; heuristics ${pct(ar.heuristics_recall)}, embedding ${pct(ar.embedding_recall)})`);
    const br = obj(jb.benign_report);
    if (Object.keys(br).length > 0) out.push(`- benign report set (questions about prompts, policies and AI systems): ${num(br.flagged)} of ${num(br.prompts)} flagged (**${pct(br.false_positive_rate, 2)}**)`);
    const all = obj(jb.all_rows);
    if (Object.keys(all).length > 0) out.push(`- ${num(jb.folds)}-fold over all ${num(all.attacks)} attack rows (partly in sample): recall ${pct(all.recall)}`);
    const sim = obj(jb.similarity);
    out.push(`\nSimilarity to the nearest attack example: attacks mean ${num(sim.attacks_mean, 3)}, ordinary prompts mean ${num(sim.ordinary_mean, 3)}, ordinary p99 ${num(sim.ordinary_p99, 3)}.`);
  }
  out.push('');
  return out.join('\n');
}

/** What the quality figures below are, and where the out-of-sample ones are. */
export const QUALITY_CAVEAT = 'Which rows each figure is out of sample for: CLINC150 thresholds are fitted by `switchyard fit` on the even lines of ' +
  'val.jsonl, oos_train.jsonl and oos_val.jsonl (cross-fitted: the out-of-scope recall it aims for is raised until it holds out of fold) and ' +
  'the figures score the odd lines of the same files, so no scored row was fitted on; each half draws its out-of-scope rows from both ' +
  'files, and the fit\'s out-of-fold recall is shown beside the scored one with the gap. The head\'s data-learned constants ' +
  '(src/semantic/head-constants.ts) are produced by `scripts/fit-constants.ts` on the even lines of CLINC150 val.jsonl and the odd ' +
  'held-back Banking77 rows; Banking77 scores the even held-back rows with the built-in (calibrated) thresholds. The cache figures come ' +
  'from the fit / tune / report rotation of `switchyard cache-eval --fit` over both QQP files (the command and flags that produce the ' +
  'shipped pair scorer, src/cache/pair-weights.ts): fold r (line mod 5) is scored by a scorer fitted on three other folds and ' +
  'thresholded on fold r + 1, and the folds are pooled, so no scored pair was fitted or tuned on by the scorer that scored it; the ' +
  'shipped model itself was fitted on these files and is not scored here. They are out of sample for every fitted weight, threshold ' +
  'and cutoff, not for a few choices settled with these figures in view (the feature set, the 41% tune target, two guard-rule ' +
  'fixes; docs/cache.md). More figures ' +
  'on disjoint splits: docs/reference-prompts.md ("Measured on disjoint splits", `scripts/eval-routing.sh`).\n';

export function qualitySummary(r: BenchResults): string[] {
  const rows: string[][] = [];
  for (const name of EVAL_ORDER) {
    const s = r.sections[name];
    if (s === undefined) continue;
    const title = EVAL_TITLE[name] ?? name;
    if (s.status !== 'ok') {
      rows.push([title, `${s.status}: ${esc(s.message ?? '')}`.slice(0, 200)]);
      continue;
    }
    const n = obj(s.numbers);
    if (name.startsWith('eval_')) {
      const fitRecall = obj(n.setup).fit_oos_recall_out_of_fold;
      const gap = typeof fitRecall === 'number' && typeof n.oos_recall === 'number'
        ? ` (fit rows, out of fold: ${pct(fitRecall)}; gap ${fmt(Math.abs(n.oos_recall - fitRecall) * 100, 1)} points)` : '';
      rows.push([title, `in-scope accuracy **${pct(n.in_scope_accuracy)}**${n.oos_recall === null || n.oos_recall === undefined ? '' : `, out-of-scope recall **${pct(n.oos_recall)}**${gap}`}, top-1 ${pct(n.top1_accuracy_no_rejection)}, macro F1 ${pct(n.macro_f1)} (${num(n.rows)} rows)`]);
    } else if (name.startsWith('cache_eval')) {
      const files = new Map(arr(n.files).map((f) => [String(f.name), f]));
      const float = name.endsWith('_float32') ? ', float embedder (the int8 comparison)' : '';
      for (const p of arr(n.pooled)) {
        const target = p.name === CACHE_TARGET.file ? `; target ${cacheTarget(p, arr(n.per_fold))}` : '';
        rows.push([`Semantic cache: ${PAIR_FILE_TITLE[String(p.name)] ?? esc(p.name)}${float}`,
          `precision **${pct(p.precision, 2)}** (${num(p.true_hits)} of ${num(p.served)} served), recall **${pct(p.recall)}**, out of sample: ` +
          `${num(n.folds)}-fold rotation over ${num(files.get(String(p.name))?.pairs)} pairs, each scored by a scorer fitted and thresholded on other folds${target}`]);
      }
    } else {
      const pii = obj(n.pii);
      const j = obj(n.jailbreak);
      const ar = obj(j.attack_report);
      const br = obj(j.benign_report);
      const jb = obj(j.combined);
      rows.push([title, `PII precision **${pct(pii.precision)}**, recall **${pct(pii.recall)}**; ` + (Object.keys(ar).length > 0 && Object.keys(br).length > 0
        ? `jailbreak recall on the attack report set **${pct(ar.recall)}** at **${pct(br.false_positive_rate, 2)}** false positives on the benign report set (out of sample)`
        : `jailbreak recall **${pct(jb.recall)}** at ${pct(jb.false_positive_rate, 2)} false positives`)]);
    }
  }
  return rows.length === 0 ? [] : [table(['evaluation', 'result'], rows), ''];
}
