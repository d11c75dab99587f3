/** `switchyard fit`: picks per-category thresholds and the global threshold/min_margin on labelled data and writes them. */
import { parseFlags } from './flags.js';
import { writeThresholds } from '../semantic/catalog/write.js';
import { fitThresholds, report } from '../semantic/evaluate.js';
import { readLabelledFiles } from '../semantic/labelled.js';
import { EMBEDDER_FLAGS, EMBEDDER_HELP, buildFromFolder, configFromFlags, openOffline, scoreRows } from '../semantic/offline.js';

const HELP = `Usage: switchyard fit --refs <dir> --data <labelled.jsonl>[,<more.jsonl>] [--target-precision p] [--min-oos-recall r] [--dry-run]

Fits the classifier's thresholds on labelled data that includes out-of-scope rows (label "none"): the global threshold and
min_margin maximise in-scope accuracy subject to out-of-scope recall >= --min-oos-recall (default 0.7). With
--target-precision, each category also gets its own threshold where its precision against out-of-scope rows stays >= P,
shrunk towards the global one for categories with few rows (off by default: with tens of rows per category it measured
worse on unseen data). Writes the global settings into <dir>/_settings.yaml and the category thresholds into the category
files (other content preserved; a category without a fitted threshold loses its old one). Use data that is not in the
reference folder.

Options:
  --refs DIR               reference-prompt folder (rewritten in place)
  --data FILES             JSONL with {"text","label"}; repeat or comma-separate
  --target-precision P     also fit per-category thresholds at this precision (default: none)
  --min-oos-recall R       out-of-scope recall the global settings must reach (default 0.7)
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
    const t = fitThresholds(scored, { targetPrecision, minOosRecall });
    const r = report(scored, t);
    process.stdout.write(
      `fitted on ${r.rows} rows: threshold ${t.global}, min_margin ${t.minMargin}, ${t.perCategory.size} category thresholds\n` +
        `on the fitting data: in-scope accuracy ${r.inScope ? `${(r.inScopeAccuracy * 100).toFixed(1)}%` : 'n/a'}, out-of-scope recall ${r.outOfScope ? `${(r.oosRecall * 100).toFixed(1)}%` : 'n/a'}\n`,
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
