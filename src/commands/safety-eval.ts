/**
 * `switchyard safety-eval`: precision and recall of the PII detectors on the shared prompt sets with synthetic PII
 * inserted (the untouched prompts are the negatives), and jailbreak detection by k-fold cross-validation over the attack
 * examples against ordinary prompts. Uses the default embedder (USE-lite) for the jailbreak similarity.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseFlags } from './flags.js';
import { PACKAGE_ROOT } from '../config/paths.js';
import { jailbreakPolicySchema } from '../safety/config.js';
import { evaluateJailbreak, evaluatePii, loadPrompts } from '../safety/eval/evaluate.js';
import { readJailbreakExamples } from '../safety/jailbreak.js';
import { defaultSemanticConfig } from '../semantic/config.js';
import { createEmbedder } from '../semantic/embedder/index.js';

const HELP = `Usage: switchyard safety-eval [options]

Options:
  --data <dir>        shared evaluation data folder (default: ../shared/data beside the package)
  --examples <file>   jailbreak examples (default: the package's reference-prompts/jailbreak.yaml)
  --benign <file>     benign near-misses, the contrast set (default: reference-prompts/jailbreak_benign.yaml; "" for none)
  --benign-report <file>
                      benign prompts only measured, one a line (default: test/safety/fixtures/benign-ai-questions-report.txt)
  --attack-report <file>
                      attacks only measured, one a line (default: test/safety/fixtures/jailbreak-attacks-report.txt)
  --limit <n>         prompts per data file (default: 400)
  --threshold <t>     jailbreak threshold (default: the safety.jailbreak.threshold default)
  --no-embed          skip the jailbreak part (no embedder load)
  --json              print one JSON object
  -h, --help          show this help
`;

/** Prompts of a one-a-line file (blank lines and # comments skipped); none when the file is absent. */
async function readLines(file: string): Promise<string[]> {
  let raw: string;
  try { raw = await readFile(path.resolve(file), 'utf8'); } catch { return []; }
  return raw.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

export async function run(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    data: { type: 'string', default: path.join(PACKAGE_ROOT, '../shared/data') },
    examples: { type: 'string', default: path.join(PACKAGE_ROOT, 'reference-prompts/jailbreak.yaml') },
    benign: { type: 'string', default: path.join(PACKAGE_ROOT, 'reference-prompts/jailbreak_benign.yaml') },
    'benign-report': { type: 'string', default: path.join(PACKAGE_ROOT, 'test/safety/fixtures/benign-ai-questions-report.txt') },
    'attack-report': { type: 'string', default: path.join(PACKAGE_ROOT, 'test/safety/fixtures/jailbreak-attacks-report.txt') },
    limit: { type: 'number', integer: true, min: 1, default: 400 }, threshold: { type: 'number', min: 0, max: 1 }, 'no-embed': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  }, HELP);
  if (typeof values === 'number') return values;
  const texts = await loadPrompts(path.resolve(values.data), values.limit);
  if (texts.length === 0) { process.stderr.write(`no prompt sets found under ${values.data}; nothing to evaluate\n`); return 0; }
  const pii = evaluatePii(texts);
  const out: Record<string, unknown> = { prompts: texts.length, pii };
  if (!values['no-embed']) {
    const calib = jailbreakPolicySchema.parse(values.threshold === undefined ? {} : { threshold: values.threshold });
    const attacks = await readJailbreakExamples(path.resolve(values.examples));
    const embedder = await createEmbedder(defaultSemanticConfig().embedder, PACKAGE_ROOT);
    try {
      const [av, ov] = [await embedder.embed(attacks), await embedder.embed(texts)];
      const benignVecs = values.benign === '' ? [] : await embedder.embed(await readJailbreakExamples(path.resolve(values.benign)));
      const reportTexts = await readLines(values['benign-report']);
      const report = reportTexts.length > 0 ? { texts: reportTexts, vecs: await embedder.embed(reportTexts) } : undefined;
      const attackTexts = await readLines(values['attack-report']);
      const attackReport = attackTexts.length > 0 ? { texts: attackTexts, vecs: await embedder.embed(attackTexts) } : undefined;
      out['jailbreak'] = evaluateJailbreak(attacks, av, texts, ov, calib, 5, { benignVecs, ...(report ? { report } : {}), ...(attackReport ? { attackReport } : {}) });
    } finally {
      await embedder.close();
    }
  }
  if (values.json) { process.stdout.write(`${JSON.stringify(out, null, 2)}\n`); return 0; }
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  console.log(`PII on ${texts.length} prompts: precision ${pct(pii.precision)}, recall ${pct(pii.recall)}, untouched prompts flagged ${pii.false_positive_texts} (${pct(pii.false_positive_rate)})`);
  for (const [t, r] of Object.entries(pii.per_type)) console.log(`  ${t.padEnd(8)} recall ${pct(r.recall)} (${r.found}/${r.inserted})`);
  const jb = out['jailbreak'] as ReturnType<typeof evaluateJailbreak> | undefined;
  if (jb) {
    console.log(`Jailbreak (${jb.folds}-fold over ${jb.attacks} attacks vs ${jb.ordinary} ordinary prompts, threshold ${jb.threshold}):`);
    console.log(`  combined   recall ${pct(jb.combined.recall)}  FPR ${pct(jb.combined.false_positive_rate)}  precision ${pct(jb.combined.precision)}`);
    console.log(`  heuristics recall ${pct(jb.heuristics_only.recall)}  FPR ${pct(jb.heuristics_only.false_positive_rate)}`);
    console.log(`  embedding  recall ${pct(jb.embedding_only.recall)}  FPR ${pct(jb.embedding_only.false_positive_rate)}`);
    if (jb.benign_report) {
      const b = jb.benign_report;
      console.log(`  benign report set (${b.prompts} prompts, contrast set of ${jb.benign_examples}): flagged ${b.flagged} (${pct(b.false_positive_rate)})`);
      for (const t of b.flagged_texts) console.log(`    flagged: ${t}`);
    }
    if (jb.attack_report) {
      const a = jb.attack_report;
      console.log(`  attack report set (${a.prompts} attacks, never tuned on): recall ${pct(a.recall)} (${a.caught}), heuristics ${pct(a.heuristics_recall)}, embedding ${pct(a.embedding_recall)}`);
    }
    if (jb.all_rows) {
      const a = jb.all_rows;
      console.log(`  ${jb.folds}-fold over all ${a.attacks} attack rows: recall ${pct(a.recall)}, heuristics ${pct(a.heuristics_recall)}, embedding ${pct(a.embedding_recall)}`);
    }
    console.log(`  similarity attacks mean ${jb.similarity.attacks_mean.toFixed(3)}, ordinary mean ${jb.similarity.ordinary_mean.toFixed(3)}, ordinary p99 ${jb.similarity.ordinary_p99.toFixed(3)}`);
  }
  return 0;
}
