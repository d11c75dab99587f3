/** `switchyard build-refs`: builds a reference-prompt folder from labelled data, N examples per label. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseFlags, parseNumber } from './flags.js';
import { stringify } from 'yaml';
import { NONE, categoryOf, readLabelledFiles } from '../semantic/labelled.js';

const HELP = `Usage: switchyard build-refs --data <labelled.jsonl> --per-label N|all --out <dir> [--skip M] [--seed S] [--none]
                             [--rest <file.jsonl> [--rest-per-label K]]

Writes one <label>.yaml per label (rows labelled "none" are skipped, or with --none written as none.yaml: explicit
out-of-scope examples the classifier learns as a class whose win is a rejection) with the first N distinct texts of that label (all of
them with --per-label all), after skipping the first M (so several disjoint folders can be cut from one file). With --seed, each label's distinct texts are
shuffled first (a seeded, repeatable draw). With --rest, the label's other texts (those not written as examples, in the
same order) go to a labelled JSONL file, at most K per label: a fitting set for \`fit\` that shares no row with the folder.
A label is written as the category its name maps to: characters outside [A-Za-z0-9_.-] become '_' ("computer science" ->
computer_science); eval and fit compare labels the same way.
Existing files of the same name are replaced.

Options:
  --data FILES          JSONL with {"text","label"}; repeat or comma-separate
  --per-label N|all     examples per label, or every distinct text of the label
  --skip M              texts of each label to skip first (default 0)
  --seed S              shuffle each label's texts with this seed before skipping and taking (default: file order)
  --none                write rows labelled "none" as the none category (default: skip them)
  --rest FILE           write the texts not taken as examples to FILE
  --rest-per-label K    at most K rest texts per label (default all)
  --out DIR             folder to write
  -h, --help
`;

/** Seeded shuffle (Fisher–Yates over a 32-bit mulberry-style generator): the same seed gives the same draw everywhere. */
export function seededShuffle<T>(items: T[], seed: number): T[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    data: { type: 'string', multiple: true },
    'per-label': { type: 'string' },
    skip: { type: 'number', integer: true, min: 0, default: 0 },
    seed: { type: 'number', integer: true, min: 0 },
    rest: { type: 'string' },
    none: { type: 'boolean' },
    'rest-per-label': { type: 'number', integer: true, min: 0, default: Infinity },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, HELP);
  if (typeof values === 'number') return values;
  const { skip, seed, 'rest-per-label': restPer } = values;
  if (!values.data?.length || !values.out || values['per-label'] === undefined) {
    process.stderr.write(`build-refs: --data, --out and --per-label are required\n\n${HELP}`);
    return 2;
  }
  let per: number;
  try {
    per = values['per-label'] === 'all' ? Infinity : parseNumber(values['per-label'], { integer: true, min: 1 }, '--per-label');
  } catch (err) {
    process.stderr.write(`build-refs: ${(err as Error).message} (or 'all')\n\n${HELP}`);
    return 2;
  }
  const rows = await readLabelledFiles(values.data);
  const byName = new Map<string, { label: string; texts: string[]; seen: Set<string> }>();
  const merged = new Set<string>();
  for (const row of rows) {
    if (row.label === NONE && !values.none) continue;
    const name = categoryOf(row.label);
    let entry = byName.get(name);
    if (!entry) byName.set(name, (entry = { label: row.label, texts: [], seen: new Set() }));
    else if (entry.label !== row.label && !merged.has(row.label)) {
      merged.add(row.label);
      process.stderr.write(`build-refs: labels '${entry.label}' and '${row.label}' both map to category '${name}'; their texts are merged\n`);
    }
    const text = row.text.trim();
    if (text === '' || entry.seen.has(text)) continue;
    entry.seen.add(text);
    entry.texts.push(text);
  }
  await mkdir(values.out, { recursive: true });
  let written = 0;
  const rest: string[] = [];
  for (const [name, e] of byName) {
    const ordered = seed === undefined ? e.texts : seededShuffle(e.texts, seed);
    const examples = ordered.slice(skip, skip + per);
    const others = [...ordered.slice(0, skip), ...ordered.slice(skip + per)].slice(0, restPer);
    for (const text of others) rest.push(JSON.stringify({ text, label: e.label }));
    if (examples.length === 0) continue;
    const doc = { name, description: `Label '${e.label}' from ${values.data.join(', ')}`, examples };
    await writeFile(path.join(values.out, `${name}.yaml`), stringify(doc, { lineWidth: 0 }));
    written++;
  }
  if (values.rest) await writeFile(values.rest, rest.length ? `${rest.join('\n')}\n` : '');
  process.stdout.write(`wrote ${written} categories to ${values.out}${values.rest ? ` and ${rest.length} rest rows to ${values.rest}` : ''}\n`);
  return 0;
}
