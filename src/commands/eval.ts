/** `switchyard eval`: scores a reference folder on labelled data (label `none` = must be rejected). */
import { parseFlags } from './flags.js';
import { report, type EvalReport } from '../semantic/evaluate.js';
import { readLabelledFiles } from '../semantic/labelled.js';
import { EMBEDDER_FLAGS, EMBEDDER_HELP, buildFromFolder, configFromFlags, openOffline, quantile, scoreRows, thresholdsOf } from '../semantic/offline.js';

const HELP = `Usage: switchyard eval --refs <dir> --data <labelled.jsonl>[,<more.jsonl>] [--threshold T] [--min-margin M] [--json]

Classifies every row of the labelled data against the reference prompts in <dir> with the folder's thresholds and prints
in-scope accuracy, out-of-scope recall (rows labelled "none" must come back none), per-category precision/recall, the most
confused pairs and latency. Labels are compared as build-refs names categories ("computer science" is computer_science).

Options:
  --refs DIR        reference-prompt folder
  --data FILES      JSONL with {"text","label"}; repeat or comma-separate
  --threshold T     score every category at threshold T instead of the folder's (global and per-category) thresholds
  --min-margin M    use min_margin M instead of the folder's
  --json            machine-readable output (with the correct counts, inScopeCorrect and topCorrect, for pooling folds)
${EMBEDDER_HELP}
  -h, --help
`;

export async function run(argv: string[]): Promise<number> {
  const values = parseFlags(argv, { refs: { type: 'string' }, data: { type: 'string', multiple: true }, json: { type: 'boolean' },
    threshold: { type: 'number', min: -1, max: 1 }, 'min-margin': { type: 'number', min: 0 }, help: { type: 'boolean', short: 'h' }, ...EMBEDDER_FLAGS }, HELP);
  if (typeof values === 'number') return values;
  if (!values.refs || !values.data?.length) {
    process.stderr.write(`eval: --refs and --data are required\n\n${HELP}`);
    return 2;
  }
  const off = await openOffline(configFromFlags(values));
  try {
    const t0 = performance.now();
    const built = await buildFromFolder(off, values.refs);
    const rows = await readLabelledFiles(values.data);
    const run = await scoreRows(off, built.classifier, rows);
    const folder = thresholdsOf(built);
    const thresholds = {
      global: values.threshold ?? folder.global,
      minMargin: values['min-margin'] ?? folder.minMargin,
      perCategory: values.threshold === undefined ? folder.perCategory : new Map<string, number>(),
    };
    const r = report(run.scored, thresholds);
    const latency = {
      classify_p50_ms: quantile(run.classifyMs, 0.5),
      classify_p99_ms: quantile(run.classifyMs, 0.99),
      embed_ms_per_row_batched: run.embedMsPerRow,
      build_ms: built.stats.buildMs,
      total_ms: performance.now() - t0,
    };
    if (values.json) process.stdout.write(`${JSON.stringify({ ...r, threshold: thresholds.global, minMargin: thresholds.minMargin, latency, embedder: off.embedder.id, method: built.classifier.settings.method }, null, 2)}\n`);
    else process.stdout.write(formatReport(r, latency, off.embedder.id, built.classifier.settings.method));
    return 0;
  } finally {
    await off.close();
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function formatReport(r: EvalReport, latency: Record<string, number>, embedder: string, method: string): string {
  const lines = [
    `embedder ${embedder}, method ${method}; ${r.rows} rows (${r.inScope} in scope, ${r.outOfScope} out of scope)`,
    r.inScope
      ? `in-scope accuracy   ${pct(r.inScopeAccuracy)}   (ranking winner right, rejection ignored: ${pct(r.topAccuracy)})`
      : 'in-scope accuracy   n/a (no in-scope rows)',
    `out-of-scope recall ${r.outOfScope ? pct(r.oosRecall) : 'n/a'}`,
    '',
    'per category (precision / recall / support), lowest F1 first:',
    ...[...r.perCategory]
      .sort((a, b) => f1(a) - f1(b))
      .slice(0, 25)
      .map((c) => `  ${c.intent.padEnd(32)} ${pct(c.precision).padStart(6)} ${pct(c.recall).padStart(6)} ${String(c.support).padStart(5)}`),
    '',
    'most confused (gold -> predicted):',
    ...r.confused.map((c) => `  ${c.gold} -> ${c.predicted}: ${c.count}`),
    '',
    `latency: classify p50 ${latency.classify_p50_ms.toFixed(3)} ms, p99 ${latency.classify_p99_ms.toFixed(3)} ms; ` +
      `embed ${latency.embed_ms_per_row_batched.toFixed(2)} ms/row batched (uncached rows); build ${latency.build_ms.toFixed(0)} ms`,
  ];
  return `${lines.join('\n')}\n`;
}

const f1 = (c: { precision: number; recall: number }) => (c.precision + c.recall > 0 ? (2 * c.precision * c.recall) / (c.precision + c.recall) : 0);
