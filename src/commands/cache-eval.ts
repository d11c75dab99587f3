/**
 * `switchyard cache-eval`: precision and recall of the semantic cache on labelled question pairs, at the configured
 * threshold and guard and over a threshold sweep, with and without the guard. Uses the default embedder (USE-lite).
 */
import { readFile } from 'node:fs/promises';
import { parseFlags } from './flags.js';
import { cacheConfigSchema } from '../cache/config.js';
import { evaluate, parsePairs, scorePairs, type PrecisionRecall, type ScoredPair } from '../cache/eval.js';

const HELP = `Usage: switchyard cache-eval --data <pairs.jsonl> [options]

Measures the semantic cache on labelled pairs ({"a","b","duplicate"} per line): "a" is cached, "b" is the new query.
Prints precision/recall at the configured threshold and guard, then a sweep with and without the guard, and the same
numbers on each half of the file (even and odd lines) to show how well the settings carry over.

Options:
  --data <file>       pairs file (JSONL), e.g. ../shared/data/pairs/qqp_dev_balanced_10k.jsonl
  --threshold <t>     similarity threshold (default: the cache.threshold default)
  --no-guard          evaluate plain cosine similarity
  --limit <n>         use the first n pairs only
  --json              print one JSON object instead of tables
  -h, --help          show this help
`;

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const row = (r: PrecisionRecall): string =>
  `${r.threshold.toFixed(2)}  P ${pct(r.precision).padStart(6)}  R ${pct(r.recall).padStart(6)}  served ${String(r.served).padStart(5)}  false ${String(r.false_hits).padStart(4)}`;

export async function run(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    data: { type: 'string' }, threshold: { type: 'string' }, 'no-guard': { type: 'boolean', default: false },
    limit: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  }, HELP);
  if (typeof values === 'number') return values;
  if (values.data === undefined) { process.stderr.write(`--data is required\n\n${HELP}`); return 2; }
  const defaults = cacheConfigSchema.parse({});
  const threshold = values.threshold === undefined ? defaults.threshold : Number(values.threshold);
  if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1) { process.stderr.write('--threshold must be in [0, 1]\n'); return 2; }
  const guard = { ...defaults.guard, enabled: defaults.guard.enabled && !values['no-guard'] };
  let text: string;
  try { text = await readFile(values.data, 'utf8'); } catch (err) {
    process.stderr.write(`cannot read ${values.data}: ${(err as Error).message}\n`);
    return 1;
  }
  let pairs = parsePairs(text, values.data);
  if (values.limit !== undefined) pairs = pairs.slice(0, Math.max(0, Number(values.limit)));

  const { UseLiteEmbedder } = await import('../semantic/embedder/use-lite.js');
  const embedder = await UseLiteEmbedder.load();
  const started = performance.now();
  const va: Float32Array[] = [];
  const vb: Float32Array[] = [];
  for (let i = 0; i < pairs.length; i += 64) {
    const batch = pairs.slice(i, i + 64);
    va.push(...(await embedder.embed(batch.map((p) => p.a))));
    vb.push(...(await embedder.embed(batch.map((p) => p.b))));
  }
  const embedMs = performance.now() - started;
  await embedder.close();
  const scored = scorePairs(pairs, va, vb);
  const sweepOf = (s: ScoredPair[], g: typeof guard) => [0.8, 0.83, 0.85, 0.87, 0.89, 0.9, 0.92, 0.94, 0.96].map((t) => evaluate(s, t, g));
  const halves = [0, 1].map((h) => evaluate(scored.filter((_, i) => i % 2 === h), threshold, guard));
  const result = {
    data: values.data, pairs: pairs.length, embed_ms: Math.round(embedMs), threshold, guard,
    configured: evaluate(scored, threshold, guard),
    halves: { even: halves[0], odd: halves[1] },
    sweep_guard: sweepOf(scored, { ...guard, enabled: true }),
    sweep_cosine: sweepOf(scored, { ...guard, enabled: false }),
  };
  if (values.json) { process.stdout.write(`${JSON.stringify(result, null, 2)}\n`); return 0; }
  const out = [
    `${pairs.length} pairs from ${values.data} (embedded in ${(embedMs / 1000).toFixed(1)} s)`,
    `configured (threshold ${threshold}, guard ${guard.enabled ? 'on' : 'off'}):`,
    `  all   ${row(result.configured)}`, `  even  ${row(halves[0])}`, `  odd   ${row(halves[1])}`,
    `  guard rejections: ${JSON.stringify(result.configured.rejected)}`,
    'sweep with guard:', ...result.sweep_guard.map((r) => `  ${row(r)}`),
    'sweep, plain cosine:', ...result.sweep_cosine.map((r) => `  ${row(r)}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
