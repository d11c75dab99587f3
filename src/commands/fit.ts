/** `switchyard fit`: picks per-category thresholds and the global threshold/min_margin on labelled data and writes them. */
import { parseFlags } from './flags.js';
import { writeThresholds } from '../semantic/catalog/write.js';
import { fitCrossValidated } from '../semantic/evaluate.js';
import { NONE, readLabelledFiles } from '../semantic/labelled.js';
import { EMBEDDER_FLAGS, EMBEDDER_HELP, buildFromFolder, configFromFlags, openOffline, scoreRows } from '../semantic/offline.js';

const HELP = `Usage: switchyard fit --refs <dir> --data <labelled.jsonl>[,<more.jsonl>] [--target-precision p] [--min-oos-recall r] [--folds k] [--dry-run]

Fits the classifier's thresholds on labelled data that includes out-of-scope rows (label "none"): the global threshold and
min_margin maximise in-scope accuracy subject to out-of-scope recall >= --min-oos-recall (default 0.7) on rows they were
not fitted on: the rows are split into --folds stratified folds (default 5), each scored with thresholds fitted on the
others, and the recall the fit aims for is raised (by 0.01, at most 0.1) until that out-of-fold recall reaches the target;
the thresholds written are fitted on all rows for the raised recall. Both figures are printed: on the fitting rows (in
sample) and out of fold (what unseen rows of the same kind get). With
--target-precision, each category also gets its own threshold where its precision against out-of-scope rows stays >= P,
shrunk towards the global one for categories with few rows (off by default: with tens of rows per category it measured
worse on unseen data). Writes the global settings into <dir>/_settings.yaml and the category thresholds into the category
files (other content preserved; a category without a fitted threshold loses its old one). Use data that is not in the
reference folder.

Options:
  --refs DIR               reference-prompt folder (rewritten in place)
  --data FILES             JSONL with {"text","label"}; repeat or comma-separate
  --target-precision P     also fit per-category thresholds at this precision (default: none)
  --min-oos-recall R       out-of-scope recall the global settings must reach out of fold (default 0.7)
  --folds K                folds of the cross-fit (default 5; 1: fit all rows for exactly R, no cross-fit)
  --dry-run                print what would be written, change nothing
${EMBEDDER_HELP}
  -h, --help
`;

export async function run(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    refs: { type: 'string' },
    data: { type: 'string', multiple: true },
    'target-precision': { type: 'number', min: 0, max: 1 },
    'min-oos-recall': { type: 'number', min: 0, max: 1, default: 0.7 },
    folds: { type: 'number', integer: true, min: 1, max: 20, default: 5 },
    'dry-run': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    ...EMBEDDER_FLAGS,
  }, HELP);
  if (typeof values === 'number') return values;
  if (!values.refs || !values.data?.length) {
    process.stderr.write(`fit: --refs and --data are required\n\n${HELP}`);
    return 2;
  }
  const { 'target-precision': targetPrecision, 'min-oos-recall': minOosRecall } = values;
  if (targetPrecision !== undefined && (targetPrecision === 0 || targetPrecision === 1)) {
    process.stderr.write('fit: --target-precision must be strictly between 0 and 1\n');
    return 2;
  }
  const off = await openOffline(configFromFlags(values));
  try {
    const built = await buildFromFolder(off, values.refs);
    const rows = await readLabelledFiles(values.data);
    const { scored } = await scoreRows(off, built.classifier, rows);
    const cv = fitCrossValidated(scored, { targetPrecision, minOosRecall }, values.folds);
    const t = cv.thresholds;
    const inScope = scored.some((s) => s.gold !== NONE);
    const outOfScope = scored.some((s) => s.gold === NONE);
    const pct = (x: number, has: boolean): string => (has ? `${(x * 100).toFixed(1)}%` : 'n/a');
    const figures = (r: { inScopeAccuracy: number; oosRecall: number }): string =>
      `in-scope accuracy ${pct(r.inScopeAccuracy, inScope)}, out-of-scope recall ${pct(r.oosRecall, outOfScope)}`;
    process.stdout.write(
      `fitted on ${scored.length} rows: threshold ${t.global}, min_margin ${t.minMargin}, ${t.perCategory.size} category thresholds\n` +
        `on the fitting data: ${figures(cv.inSample)}\n` +
        (cv.folds > 1
          ? `out of fold (${cv.folds} folds, each scored with thresholds fitted on the others): ${figures(cv.outOfFold)}; ` +
            `fitted for ${(cv.fittedFor * 100).toFixed(0)}% out-of-scope recall; fold thresholds ${cv.foldThresholds.join(', ')}\n`
          : ''),
    );
    if (values['dry-run']) {
      for (const [name, th] of [...t.perCategory].sort()) process.stdout.write(`  ${name}: ${th}\n`);
      return 0;
    }
    const written = await writeThresholds(built.source, t.perCategory, { threshold: t.global, min_margin: t.minMargin });
    process.stdout.write(`wrote ${written.length} files\n`);
    return 0;
  } finally {
    await off.close();
  }
}
