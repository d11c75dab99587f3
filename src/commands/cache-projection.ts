/**
 * `switchyard cache-projection`: fits the semantic cache's projection (src/cache/projection.ts) for the default embedder
 * on a corpus of texts, reports how much of the signal it keeps and whether the projected search still finds exact nearest
 * neighbours on other texts, and writes the model (.ts for the shipped src/cache/projection-weights.ts, else JSON).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseFlags } from './flags.js';
import { fitProjection, projectionModule, shortlistRecall } from '../cache/projection-fit.js';
import { decodeProjection } from '../cache/projection.js';
import { SHORTLIST } from '../cache/projected-index.js';
import type { Embedder } from '../semantic/embedder/types.js';

const HELP = `Usage: switchyard cache-projection --data <texts> [--data <more>] --out <file> [options]

Fits the cache index's projection: the top --dims principal directions of the default embedder's vectors of the texts.
A text file is one text a line; a .jsonl file gives each line's --field (default "text"; for pairs files use a or b).

Options:
  --data <file>    corpus to fit on, repeatable
  --field <name>   JSON field holding the text (default text)
  --dims <n>       basis rows (default 128)
  --check <file>   texts the fit never saw: every 10th is a query, the rest entries; prints the share of queries whose
                   exact nearest entry is in the projected shortlist (${SHORTLIST})
  --check-field <name>  field for --check (default: --field)
  --out <file>     .ts writes a module like src/cache/projection-weights.ts, anything else JSON
  -h, --help       show this help
`;

async function readTexts(file: string, field: string): Promise<string[]> {
  let text: string;
  try { text = await readFile(file, 'utf8'); } catch (err) { throw new Error(`cannot read ${file}: ${(err as Error).message}`); }
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    if (!file.endsWith('.jsonl')) { out.push(line.trim()); return; }
    let row: unknown;
    try { row = JSON.parse(line); } catch { throw new Error(`${file}:${i + 1}: not valid JSON`); }
    const t = (row as Record<string, unknown>)[field];
    if (typeof t !== 'string') throw new Error(`${file}:${i + 1}: no string field "${field}"`);
    out.push(t);
  });
  return out;
}

async function embedAll(embedder: Embedder, texts: string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += 64) out.push(...(await embedder.embed(texts.slice(i, i + 64))));
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    data: { type: 'string', multiple: true }, field: { type: 'string', default: 'text' }, dims: { type: 'number', integer: true, min: 1, default: 128 },
    check: { type: 'string' }, 'check-field': { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', default: false },
  }, HELP);
  if (typeof flags === 'number') return flags;
  const { dims } = flags;
  if (!flags.data?.length || flags.out === undefined) {
    process.stderr.write(`--data and --out are required\n\n${HELP}\n`);
    return 2;
  }
  const corpus = [...new Set((await Promise.all(flags.data.map((f) => readTexts(f, flags.field)))).flat())];
  const check = flags.check === undefined ? undefined : await readTexts(flags.check, flags['check-field'] ?? flags.field);
  const { UseLiteEmbedder } = await import('../semantic/embedder/use-lite.js');
  const embedder: Embedder = await UseLiteEmbedder.load();
  try {
    const started = performance.now();
    const vectors = await embedAll(embedder, corpus);
    const model = fitProjection(vectors, dims, embedder.space ?? embedder.id, flags.data.map((f) => basename(f)));
    console.log(`fitted ${dims} of ${model.dim} directions on ${vectors.length} texts in ${((performance.now() - started) / 1000).toFixed(1)} s; they keep ${(model.kept * 100).toFixed(1)}% of its energy`);
    if (check !== undefined) {
      const vs = await embedAll(embedder, [...new Set(check)]);
      const queries = vs.filter((_, i) => i % 10 === 0), entries = vs.filter((_, i) => i % 10 !== 0);
      const recall = shortlistRecall(decodeProjection(model), entries, queries, SHORTLIST);
      console.log(`${flags.check}: exact nearest entry in the projected shortlist of ${SHORTLIST} for ${(recall * 100).toFixed(2)}% of ${queries.length} queries (${entries.length} entries)`);
    }
    const command = `switchyard cache-projection ${argv.join(' ')}`;
    await writeFile(flags.out, flags.out.endsWith('.ts') ? projectionModule(model, command) : `${JSON.stringify(model, null, 2)}\n`);
    console.log(`wrote ${flags.out}`);
    return 0;
  } finally {
    await embedder.close();
  }
}
