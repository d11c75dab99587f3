/**
 * Renders bench/results/latest.json as docs/benchmarks.md: machine facts and settings, a summary (proxy targets with pass/fail,
 * headline quality numbers), the side by side proxy tables, the extra Switchyard modes, the CPU profile when one was taken,
 * every area section's numbers, the quality evaluations as tables, and how to reproduce.
 */
import type { OverloadReport } from './overload.js';
import type { Aggregate, ModeResult, Overhead, ProxyReport } from './proxy.js';
import type { CpuCostReport } from './cpu-cost.js';
import type { Hotspot } from './load/profile.js';

export interface SectionResult {
  status: 'ok' | 'skipped' | 'failed';
  message?: string;
  seconds?: number;
  date?: string;
  numbers?: unknown;
  /** The argument the section's bench function was called with (sizes in quick mode, the data folder). */
  settings?: unknown;
}

export interface BenchResults {
  date: string;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  sections: Record<string, SectionResult>;
  total_seconds?: number;
}

const TARGET_LABEL: Record<string, string> = { direct: 'upstream direct', bare: 'bare node:http proxy', switchyard: 'Switchyard' };
const SECTION_TITLE: Record<string, string> = {
  semantic: 'Semantic: embedding and classification',
  rules: 'Routing rules',
  cache: 'Semantic cache',
  governance: 'Governance',
  providers: 'Provider adapters',
  observability: 'Observability: per-request recording, scrapes and the dashboard',
  safety: 'Safety signals: per-prompt detector cost',
  embedder: 'Embedder: USE-lite int8 (default) against float, side by side',
  cascade: 'Cascade routing: cost and latency',
  eval_clinc150_10: 'Intent classification: CLINC150, 10 reference prompts per intent',
  eval_clinc150_100: 'Intent classification: CLINC150, 100 reference prompts per intent',
  eval_banking77: 'Intent classification: Banking77, 10 reference prompts per label',
  cache_eval: 'Semantic cache: QQP balanced 10k and hard 2k, out of sample (fold rotation)',
  eval_clinc150_10_float32: 'Intent classification: CLINC150, 10 reference prompts per intent, float embedder (the int8 comparison)',
  cache_eval_float32: 'Semantic cache: QQP balanced 10k and hard 2k, out of sample, float embedder (the int8 comparison)',
  safety_eval: 'Safety: PII and jailbreak detection',
};

const AREA_ORDER = ['semantic', 'embedder', 'rules', 'cache', 'governance', 'providers', 'observability', 'safety', 'cascade'];
const EVAL_ORDER = [
  'eval_clinc150_10', 'eval_clinc150_100', 'eval_banking77', 'cache_eval',
  'eval_clinc150_10_float32', 'cache_eval_float32', 'safety_eval',
];
const EVAL_SECTIONS = new Set(EVAL_ORDER);

const pct = (x: unknown, digits = 1): string => (typeof x === 'number' && Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : '–');
const num = (x: unknown, digits = 2): string => (typeof x === 'number' && Number.isFinite(x) ? (Number.isInteger(x) ? x.toLocaleString('en-US') : x.toFixed(digits)) : '–');
const esc = (x: unknown): string => String(x ?? '–').replace(/\|/g, '\\|').replace(/\n/g, ' ');
const fmt = (x: number | undefined, digits = 2): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const fmtInt = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US'));
const range = (s: { min: number; median: number; max: number } | undefined, digits = 2, int = false): string => {
  if (s === undefined) return '–';
  const f = int ? fmtInt : (x: number) => fmt(x, digits);
  return f(s.min) === f(s.max) ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
};

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Flattens nested numbers to `a.b.c` rows. */
function flatten(value: unknown, prefix = '', out: Array<[string, string]> = []): Array<[string, string]> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else if (Array.isArray(value)) {
    out.push([prefix, value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')]);
  } else if (typeof value === 'number') {
    out.push([prefix, Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)))]);
  } else {
    out.push([prefix, String(value).replace(/\|/g, '\\|').replace(/\n/g, ' ')]);
  }
  return out;
}

function proxySection(p: ProxyReport): string {
  const out: string[] = [];
  const loads = (p.settings.loads as Array<{ id: string; label: string; stream?: boolean }>) ?? [];
  out.push('### Targets\n');
  out.push(table(['target', 'measured', 'limit', 'result'], p.checks.map((c) => [c.name, `${fmt(c.value)}${c.unit ?? '×'}`, c.limit, c.pass ? '**pass**' : '**FAIL**'])));
  out.push('');
  out.push('### Side by side\n');
  out.push(`Median of ${String(p.settings.repeats)} run(s), (min–max) when they differ; ${String(p.settings.warmup_ms)} ms warm-up, then ${String(p.settings.duration_ms)} ms measured per load. Latency in ms; open-loop latency counts from the scheduled send time.\n`);
  for (const load of loads) {
    const rows = Object.entries(p.targets).map(([t, byLoad]) => {
      const a: Aggregate | undefined = byLoad[load.id];
      const row = [TARGET_LABEL[t] ?? t, range(a?.rps, 0, true), range(a?.p50_ms), range(a?.p99_ms)];
      if (load.stream) row.push(range(a?.ttfb_p50_ms), range(a?.ttfb_p99_ms));
      row.push(String(a?.errors ?? '–'));
      return row;
    });
    const head = ['target', 'req/s', 'p50', 'p99', ...(load.stream ? ['TTFB p50', 'TTFB p99'] : []), 'errors'];
    out.push(`**${load.label}**\n`);
    out.push(table(head, rows));
    out.push('');
  }
  out.push('### Added latency and relative throughput\n');
  out.push('Added latency is the target\'s latency minus the direct upstream\'s in the same run (paired), in ms.\n');
  out.push(table(
    ['load', 'bare proxy +p50', 'Switchyard +p50', 'Switchyard/bare (+p50)', 'bare proxy +p99', 'Switchyard +p99', 'Switchyard/bare req/s'],
    loads.map((l) => {
      const o: Overhead | undefined = p.overhead[l.id];
      return [l.label, range(o?.bare_added_p50_ms), range(o?.switchyard_added_p50_ms), `${fmt(o?.added_p50_ratio)}×`, range(o?.bare_added_p99_ms), range(o?.switchyard_added_p99_ms), `${fmt(o?.rps_ratio)}×`];
    }),
  ));
  out.push('');
  out.push('### Switchyard modes\n');
  const modeRows: string[][] = [];
  for (const [id, m] of Object.entries(p.modes) as Array<[string, ModeResult]>) {
    if (m.skipped !== undefined) {
      modeRows.push([m.label, '–', '–', '–', '–', `skipped: ${m.skipped.replace(/\|/g, '\\|')}`]);
      continue;
    }
    for (const [loadId, r] of Object.entries(m.loads ?? {})) {
      const label = loads.find((l) => l.id === loadId)?.label ?? loadId;
      const note = [`+${fmt(m.added_vs_pure_p50_ms?.[loadId])} ms p50 vs pure proxy`, m.cache_hit_ratio !== undefined ? `cache hit ratio ${fmt(m.cache_hit_ratio)}` : '', r.errors > 0 ? `${r.errors} errors` : '']
        .filter((s) => s !== '').join('; ');
      modeRows.push([`${m.label} (${id})`, label, fmtInt(r.rps), fmt(r.p50_ms), fmt(r.p99_ms), note]);
    }
  }
  out.push(table(['mode', 'load', 'req/s', 'p50', 'p99', 'notes'], modeRows));
  out.push('');
  if (p.profile !== undefined) {
    const pr = p.profile;
    out.push('### CPU profile of Switchyard under load\n');
    out.push(`Pure proxy at concurrency 16 (${fmtInt(pr.load.rps)} req/s while profiled), samples from the start of the load on. Busy ${fmtInt(pr.busy_ms)} ms, idle ${fmt(pr.idle_pct, 1)}%, garbage collection ${fmt(pr.gc_pct, 1)}% of busy time. Shares are self time over busy time.\n`);
    const hs = (h: Hotspot[]): string[][] => h.map((x) => [`\`${x.where}\``, `${fmt(x.share_pct, 1)}%`]);
    out.push(table(['function (file:line name)', 'share'], hs(pr.top_functions)));
    out.push('');
    out.push(table(['file or package', 'share'], hs(pr.top_files)));
    out.push('');
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------------------
// Quality evaluations

type Obj = Record<string, unknown>;
const obj = (x: unknown): Obj => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : {});
const arr = (x: unknown): Obj[] => (Array.isArray(x) ? (x as Obj[]) : []);

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

/** "met" / "not met" against the cache target, from the served and true-hit counts (not from rounded figures). */
function cacheTarget(p: Obj): string {
  if (typeof p.true_hits !== 'number' || typeof p.served !== 'number' || typeof p.recall !== 'number') return '–';
  const met = p.true_hits >= CACHE_TARGET.precision * p.served && p.recall >= CACHE_TARGET.recall;
  return `P ≥ ${pct(CACHE_TARGET.precision, 0)} at R ≥ ${pct(CACHE_TARGET.recall, 0)}: **${met ? 'met' : 'not met'}**`;
}

function cacheSection(n: Obj, s: SectionResult): string {
  const out: string[] = [...setupLines(n, s), ''];
  const files = new Map(arr(n.files).map((f) => [String(f.name), f]));
  out.push(`Every pair scored once, by the scorer of its fold (folds pooled); "a" is cached, "b" is the new query. Precision = served hits that are true duplicates; recall = duplicates served.\n`);
  out.push(table(['pairs', 'scored', 'precision', 'recall', 'served', 'false hits', 'target'], arr(n.pooled).map((p) => [
    esc(p.name), num(files.get(String(p.name))?.pairs), `${pct(p.precision, 2)} (${num(p.true_hits)} of ${num(p.served)})`, pct(p.recall), num(p.served), num(p.false_hits),
    p.name === CACHE_TARGET.file ? cacheTarget(p) : '–',
  ])));
  const folds = arr(n.per_fold);
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
const QUALITY_CAVEAT = 'Which rows each figure is out of sample for: CLINC150 thresholds are fitted by `switchyard fit` on the even lines of ' +
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

function qualitySummary(r: BenchResults): string[] {
  const rows: string[][] = [];
  for (const name of EVAL_ORDER) {
    const s = r.sections[name];
    if (s === undefined) continue;
    const title = SECTION_TITLE[name] ?? name;
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
        const target = p.name === CACHE_TARGET.file ? `; target ${cacheTarget(p)}` : '';
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

/** The speed targets of the semantic features (issues' numbers), judged from the semantic and cache sections. */
function speedSummary(r: BenchResults): string[] {
  const rows: string[][] = [];
  const check = (name: string, value: unknown, limit: string, pass: (v: number) => boolean, unit = ''): void => {
    if (typeof value !== 'number') return;
    rows.push([name, `${fmt(value, unit === '/s' ? 0 : 3)}${unit}`, limit, pass(value) ? '**pass**' : '**FAIL**']);
  };
  const sem = r.sections.semantic;
  if (sem?.status === 'ok') {
    const n = obj(sem.numbers);
    check('embed + classify p50, one request at a time', n.embed_classify_p50_ms, '≤ 5 ms', (v) => v <= 5, ' ms');
    check('classified requests/s, 64 concurrent (micro-batched)', n.classified_concurrent64_per_s, '≥ 300/s', (v) => v >= 300, '/s');
    if (n.startup_prompts === 1500) check('start-up with 1,500 prompts cached on disk', n.startup_disk_cache_s, '≤ 3 s', (v) => v <= 3, ' s');
  }
  const cache = r.sections.cache;
  if (cache?.status === 'ok') {
    const n = obj(cache.numbers);
    const entries = typeof n.entries === 'number' ? n.entries : 0;
    const at = ` (synthetic stress set, ${n.index_dims === 512 ? 'full 512-d search, ' : ''}${entries.toLocaleString('en')} entries)`;
    if (entries >= 100_000) {
      check(`cache lookup p99 excluding the embedding${at}`, n.lookup_p99_ms, '≤ 0.5 ms', (v) => v <= 0.5, ' ms');
      check(`cache HNSW recall@1 against brute force${at}`, n.recall_at_1, '≥ 0.99', (v) => v >= 0.99);
    }
    if (typeof n.real_entries === 'number') {
      const real = ` (USE-lite embeddings of real questions, ${n.real_entries.toLocaleString('en')} entries)`;
      check(`cache lookup p99 excluding the embedding${real}`, n.real_lookup_p99_ms, '≤ 0.5 ms', (v) => v <= 0.5, ' ms');
      check(`cache HNSW recall@1 against brute force${real}`, n.real_recall_at_1, '≥ 0.99', (v) => v >= 0.99);
    }
    check('RSS with the default model loaded and 100k cache entries (bench/cache-rss.ts)', n.rss_model_100k_entries_mb, '≤ 600 MB', (v) => v <= 600, ' MB');
  }
  return rows.length === 0 ? [] : ['Speed targets of the semantic features:\n', table(['target', 'measured', 'limit', 'result'], rows), ''];
}

function areaSection(name: string, s: SectionResult): string {
  const out: string[] = [];
  out.push(`From \`bench/${name}.ts\`${s.seconds !== undefined ? `, ${fmt(s.seconds, 1)} s` : ''}${s.settings !== undefined ? `; called with \`${JSON.stringify(s.settings)}\`` : ''}.\n`);
  out.push(table(['measure', 'value'], flatten(s.numbers).map(([k, v]) => [`\`${k}\``, v])));
  out.push('');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------------------

/** bench/results/cpu-cost.json: what `node dist/bench/cpu-cost.js` wrote last. */
export type CpuCostResults = CpuCostReport & { date: string; baseline: string | null };

/** "Where the proxy's time goes": CPU time per request against the bare proxy, and Switchyard's profile per load. */
export function cpuCostSection(c: CpuCostResults): string {
  const out: string[] = [];
  out.push("### Where the proxy's time goes\n");
  out.push(`Measured ${c.date.slice(0, 10)} with \`node dist/bench/cpu-cost.js\` (load average ${c.load_average.join(', ')} at the end). Wall-clock ` +
    'throughput on a shared machine moves with everyone else\'s load, so this measures what a proxy spends instead: each target serves the same ' +
    `open-loop load (${c.rate} requests/s, ${c.duration_ms / 1000} s per round, the pure proxy workload) and its process\'s CPU time (user + system, ` +
    `/proc/<pid>/stat) over the load is divided by the replies it served. ${c.rounds} rounds alternate between the targets; the ratio is the bare ` +
    'proxy\'s CPU per request over the target\'s in the same round (the throughput ratio a CPU-bound proxy would reach), median and range over the ' +
    `rounds.${c.baseline !== null ? ' The baseline is an earlier build of Switchyard measured in the same rounds (see docs/proxy-cpu.md for which).' : ''}\n`);
  const rows: string[][] = [];
  for (const [kind, targets] of Object.entries(c.loads)) {
    for (const [t, cost] of Object.entries(targets)) {
      if (cost === undefined) continue;
      const r = cost.ratio_to_bare;
      rows.push([kind, t, fmtInt(cost.cpu_us_per_request), t === 'bare' ? '1' : `${fmt(r.median, 2)} (${fmt(r.min, 2)}–${fmt(r.max, 2)})`]);
    }
  }
  out.push(table(['load', 'target', 'CPU µs / request (median)', 'bare ÷ target'], rows));
  out.push('');
  for (const [kind, pr] of Object.entries(c.profiles ?? {})) {
    if (pr === undefined) continue;
    out.push(`Switchyard's profile, ${kind} (\`--cpu-prof\`, samples of the measured load only): busy ${fmtInt(pr.busy_ms)} ms, garbage collection ` +
      `${fmt(pr.gc_pct, 1)}% of busy time; self time over busy time. On a loaded machine a sample taken while the process waits to run lands in ` +
      'the frame it stopped in, so native socket writes read high.\n');
    out.push(table(['function (file:line name)', 'share'], pr.top_functions.map((x) => [`\`${x.where}\``, `${fmt(x.share_pct, 1)}%`])));
    out.push('');
  }
  out.push('What was removed to get here, the profiles before and after, and how to reproduce: docs/proxy-cpu.md.\n');
  return out.join('\n');
}

export function renderReport(r: BenchResults, cpu?: CpuCostResults): string {
  const m = r.machine;
  const st = r.settings;
  const out: string[] = [];
  const proxy = r.sections.proxy;
  const p = proxy?.status === 'ok' ? (proxy.numbers as ProxyReport) : undefined;
  out.push('# Benchmarks\n');
  out.push('<!-- Generated by bench/run.ts from bench/results/latest.json; edit bench/report.ts, not this file. -->\n');
  out.push(`Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC${r.total_seconds !== undefined ? ` in ${fmt(r.total_seconds, 0)} s` : ''}` +
    `${st.quick ? ' in **quick mode** (shorter proxy loads, smaller area benchmarks, evaluation subsets — see Settings)' : ' (full run)'}` +
    `${st.only ? `; only the \`${String(st.only)}\` section was re-run, the others are from earlier runs (each section carries its own date in latest.json)` : ''}.\n`);
  const la0 = m.load_average_at_start as number[] | undefined;
  const la1 = m.load_average_at_end as number[] | undefined;
  out.push(`> **These numbers come from a shared ${String(m.cores)}-core machine.** Other processes (other people's builds and tests) may have been ` +
    `running at the same time: the 1/5/15-minute load average was ${la0 ? la0.join(' / ') : '–'} at the start and ${la1 ? la1.join(' / ') : '–'} at the end ` +
    `of the run, on ${String(m.cores)} cores. The load generator, the upstream simulator and the proxy under test share the same cores too. Absolute ` +
    'figures are therefore low and noisy; the proxy targets are judged on the side-by-side comparison within one run (same load, same moment, paired ' +
    'differences). Expect several times higher throughput on a dedicated machine. Quality numbers (accuracy, precision, recall) do not depend on the load.\n');
  out.push(table(['machine', ''], [
    ['CPU', `${String(m.cpu_model)}, ${String(m.cores)} cores`],
    ['memory', `${String(m.memory_gb)} GB (${String(m.free_memory_gb)} GB free at start${m.free_memory_gb_at_end !== undefined ? `, ${String(m.free_memory_gb_at_end)} GB at end` : ''})`],
    ['Node.js', String(m.node)],
    ['OS', String(m.os)],
    ['load average (1 / 5 / 15 min) at start', la0 ? la0.join(' / ') : '–'],
    ['load average (1 / 5 / 15 min) at end', la1 ? la1.join(' / ') : '–'],
  ]));
  out.push('');
  out.push('## Settings\n');
  const ps: Record<string, unknown> = p?.settings ?? (st.proxy as Record<string, unknown> | undefined) ?? {};
  out.push(table(['setting', 'value'], [
    ['command', `\`${esc(st.command ?? 'node dist/bench/run.js')}\``],
    ['mode', st.quick ? 'quick' : 'full'],
    ['evaluation data', st.data ? `\`${String(st.data)}\`` : 'absent (evaluation sections skipped)'],
    ['proxy runs per load', ps.repeats !== undefined ? `${String(ps.repeats)} (tables show median and min–max)` : '–'],
    ['proxy warm-up / measured time per load', ps.warmup_ms !== undefined ? `${String(ps.warmup_ms)} ms / ${String(ps.duration_ms)} ms` : '–'],
    ['area benchmark time limit', st.area_timeout_s !== undefined
      ? `${String(st.area_timeout_s)} s each${st.cache_timeout_s !== undefined ? ` (cache: ${String(st.cache_timeout_s)} s)` : ''}` : '–'],
    ['evaluation time limit', st.eval_timeout_s !== undefined ? `${String(st.eval_timeout_s)} s each` : '–'],
  ]));
  out.push('');

  out.push('## Summary\n');
  if (p !== undefined) {
    out.push('Proxy targets (Switchyard in pure proxy mode against a bare node:http reverse proxy, same run):\n');
    out.push(table(['target', 'measured', 'limit', 'result'], p.checks.map((c) => [c.name, `${fmt(c.value)}${c.unit ?? '×'}`, c.limit, c.pass ? '**pass**' : '**FAIL**'])));
    const o = p.overhead;
    const line = (id: string, label: string): string | undefined => o[id] && `${label}: Switchyard adds ${range(o[id].switchyard_added_p50_ms)} ms p50 over the upstream, the bare proxy ${range(o[id].bare_added_p50_ms)} ms; Switchyard/bare throughput ${fmt(o[id].rps_ratio)}×.`;
    const lines = [line('c1', 'Concurrency 1'), line('c16', 'Concurrency 16'), line('r500', '500 req/s open loop')].filter((x): x is string => x !== undefined);
    if (lines.length) out.push(`\n${lines.map((l) => `- ${l}`).join('\n')}\n`);
  } else {
    out.push(`Proxy overhead not measured: ${proxy?.status ?? 'not run'}${proxy?.message ? ` — ${proxy.message}` : ''}.\n`);
  }
  out.push(...speedSummary(r));
  const q = qualitySummary(r);
  if (q.length) {
    out.push('Quality:\n');
    out.push(...q);
    out.push(QUALITY_CAVEAT);
  }
  const failed = Object.entries(r.sections).filter(([, s]) => s.status !== 'ok');
  if (failed.length) out.push(`Sections not measured: ${failed.map(([n, s]) => `\`${n}\` (${s.status})`).join(', ')} — see their sections below.\n`);

  out.push('## Proxy overhead\n');
  out.push('Three targets receive the same load, one after the other within each run: (a) the upstream simulator directly (OpenAI protocol, no added latency), ' +
    '(b) a bare reverse proxy written on node:http (`bench/load/bare-proxy.ts`: forwards method, path, headers and body over keep-alive and pipes the reply; ' +
    'the floor for any Node gateway), (c) Switchyard started from its CLI (`node dist/src/cli.js --config <generated> --port N`) in pure proxy mode: one ' +
    'provider, cache off, no rules, anonymous callers allowed (no virtual key, no limits), request logging at `info` written to /dev/null. Upstream, proxies and the load generator (`bench/load/loadgen.ts`: undici Pool with keep-alive, ' +
    '`process.hrtime.bigint()` timing) are separate processes. Closed-loop loads keep N requests in flight; open-loop loads send at a fixed rate on a ' +
    'timer regardless of replies (up to 128 connections) and measure latency from each request\'s scheduled send time, so queueing is not hidden. ' +
    'A request is a small chat completion (system + user message); streams must end with `data: [DONE]` to count as successes.\n');
  if (p !== undefined) out.push(proxySection(p));
  else out.push(`Not measured: ${proxy?.status ?? 'not run'}${proxy?.message ? ` — ${proxy.message}` : ''}.\n`);
  if (cpu !== undefined) out.push(cpuCostSection(cpu));

  const overload = r.sections.overload;
  if (overload !== undefined) {
    out.push('## Overload: the semantic path degrades instead of queueing\n');
    out.push('`bench/overload.ts`: open-loop load (scheduled sends, latency from the scheduled time) with one intent rule and with the semantic ' +
      'cache on, next to the bare node:http proxy in the same run, Switchyard at its semantic defaults. "degraded" is the share of replies ' +
      'with `x-switchyard-semantic: degraded` (the request went on without its embedding).' +
      ' How it degrades: the model runs in worker threads at a lower priority, so the event loop that answers every request is never held by a model call; a request whose embedding would outlast its budget is refused before it queues. What a degraded request costs the main thread, apart from the model\'s threads: `node dist/bench/semantic-cpu.js` (docs/embeddings.md).\n');
    if (overload.status !== 'ok') out.push(`Not measured: ${overload.status}${overload.message ? ` — ${overload.message}` : ''}.\n`);
    else {
      const o = overload.numbers as OverloadReport;
      out.push(table(['target', 'load', 'sent', 'errors', 'served req/s', 'p50 ms', 'p99 ms', 'degraded', 'cache'], o.runs.map((x) => [
        x.target, x.load, String(x.requests), String(x.errors), fmt(x.served_per_s), fmt(x.p50_ms), fmt(x.p99_ms),
        x.degraded_share === undefined ? '–' : fmt(x.degraded_share), x.cache ? esc(JSON.stringify(x.cache)) : '–',
      ])));
      out.push('');
      out.push(table(['target', 'measured', 'limit', 'result'], o.checks.map((c) => [c.name, fmt(c.value), c.limit, c.pass ? '**pass**' : '**FAIL**'])));
      out.push('');
    }
  }

  const rest = Object.keys(r.sections).filter((n) => n !== 'proxy' && n !== 'overload' && !AREA_ORDER.includes(n) && !EVAL_SECTIONS.has(n));
  const areas = [...AREA_ORDER.filter((n) => r.sections[n] !== undefined), ...rest];
  if (areas.length) out.push('## Components\n\nMicro-benchmarks of each area, in process. Times are per operation unless the name says otherwise.\n');
  for (const name of areas) {
    const s = r.sections[name];
    out.push(`### ${SECTION_TITLE[name] ?? name}\n`);
    if (s.status !== 'ok') out.push(`${s.status === 'skipped' ? 'Skipped' : 'Failed'}: ${s.message ?? ''}\n`);
    else out.push(areaSection(name, s));
  }

  const evals = EVAL_ORDER.filter((n) => r.sections[n] !== undefined);
  if (evals.length) {
    out.push('## Quality\n');
    out.push('Run through the product\'s own commands in a child process (`node dist/src/cli.js <command> ... --json`), with the default embedder ' +
      '(USE-lite, int8 variant; the sections marked "float embedder" run the same commands with `--quantized false`, the float model it approximates) ' +
      'and the default classifier and cache settings. Reference folders are built with `switchyard build-refs` into a temporary folder.\n');
    out.push(QUALITY_CAVEAT);
  }
  for (const name of evals) {
    const s = r.sections[name];
    out.push(`### ${SECTION_TITLE[name] ?? name}\n`);
    if (s.status !== 'ok') {
      out.push(`${s.status === 'skipped' ? 'Skipped' : 'Failed'}: ${s.message ?? ''}\n`);
      continue;
    }
    const n = obj(s.numbers);
    if (name.startsWith('eval_')) out.push(intentSection(n, s));
    else if (name.startsWith('cache_eval')) out.push(cacheSection(n, s));
    else out.push(safetySection(n, s));
  }

  out.push('## Reproduce\n');
  out.push('From the repository root, with the evaluation data at `../shared/data` (or pass `--data <dir>`); `npm run bench` builds first (`tsc -p tsconfig.bench.json`: the gateway and the benchmarks) and runs `node dist/bench/run.js`.\n');
  out.push('```bash\nnpm install\nnpm run bench                      # full run: 3 runs of 1 s warm-up + 3 s per proxy load, full area sizes, full evaluation sets\n' +
    'npm run bench -- --quick           # quick run (a few minutes): 3 runs of 0.3 s + 1.5 s per proxy load, smaller sizes, evaluation subsets\n' +
    'npm run bench -- --only eval_clinc150_10   # one section; the others keep their previous results\n' +
    'npm run bench -- --profile         # also CPU-profile Switchyard under load\nnode dist/bench/proxy.js --quick   # the proxy section alone, JSON on stdout\n```\n');
  out.push('Results are written to `bench/results/latest.json` (date, machine, settings, every run\'s numbers) and this page is regenerated from it. ' +
    'Evaluation sections need the evaluation data and are skipped with a message without it. The quick run scores every 3rd odd-line CLINC150 validation row ' +
    '(plus the odd-line out-of-scope rows), every 5th scored (even-line) held-back Banking77 row, the first 1,000 pairs of each QQP file and 150 prompts per safety prompt set, and keeps an embedding cache in ' +
    'the system temp folder between quick runs; the full run scores everything with the embedding cache off, unless SWITCHYARD_BENCH_EMBEDDING_CACHE names a folder ' +
    '(then reruns skip the embedding; no figure but the embedding time changes). ' +
    'Switchyard modes that need config sections the running schema does not accept are skipped with the validation message. ' +
    'Run it on an otherwise idle machine for steadier numbers, and compare the load average lines above.\n');
  return out.join('\n');
}
