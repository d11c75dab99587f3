/** `switchyard build-refs`: builds a reference-prompt folder from labelled data, N examples per label. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseFlags } from './flags.js';
import { stringify } from 'yaml';
import { NONE, readLabelledFiles } from '../semantic/labelled.js';

const HELP = `Usage: switchyard build-refs --data <labelled.jsonl> --per-label N --out <dir> [--skip M]

Writes one <label>.yaml per label (rows labelled "none" are skipped) with the first N distinct texts of that label, after
skipping the first M (so several disjoint folders can be cut from one file). Existing files of the same name are replaced.

Options:
  --data FILES      JSONL with {"text","label"}; repeat or comma-separate
  --per-label N     examples per label
  --skip M          rows of each label to skip first (default 0)
  --out DIR         folder to write
  -h, --help
`;

/** A label as a category name (letters, digits, _ . -). */
export const categoryName = (label: string): string => label.trim().replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[_.-]+/, '') || 'label';

export async function run(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    data: { type: 'string', multiple: true },
    'per-label': { type: 'string' },
    skip: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, HELP);
  if (typeof values === 'number') return values;
  const per = Number(values['per-label']);
  const skip = values.skip === undefined ? 0 : Number(values.skip);
  if (!values.data?.length || !values.out || !Number.isInteger(per) || per < 1 || !Number.isInteger(skip) || skip < 0) {
    process.stderr.write(`build-refs: --data, --out and a positive integer --per-label are required\n\n${HELP}`);
    return 2;
  }
  const rows = await readLabelledFiles(values.data);
  const byName = new Map<string, { label: string; seen: Set<string>; examples: string[] }>();
  for (const row of rows) {
    if (row.label === NONE) continue;
    const name = categoryName(row.label);
    let entry = byName.get(name);
    if (!entry) byName.set(name, (entry = { label: row.label, seen: new Set(), examples: [] }));
    const text = row.text.trim();
    if (text === '' || entry.seen.has(text)) continue;
    entry.seen.add(text);
    if (entry.seen.size > skip && entry.examples.length < per) entry.examples.push(text);
  }
  await mkdir(values.out, { recursive: true });
  let written = 0;
  for (const [name, e] of byName) {
    if (e.examples.length === 0) continue;
    const doc = { name, description: `Label '${e.label}' from ${values.data.join(', ')}`, examples: e.examples };
    await writeFile(path.join(values.out, `${name}.yaml`), stringify(doc, { lineWidth: 0 }));
    written++;
  }
  process.stdout.write(`wrote ${written} categories to ${values.out}\n`);
  return 0;
}
