/**
 * Loads a reference-prompt folder: every `<category>.yaml|.yml|.md|.txt` (README.md and files starting with `_` or `.` are
 * not categories) plus the optional `_settings.yaml` holding fitted classifier settings. The folder is validated whole;
 * any problem fails the load with every `file:line: message` listed.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { documentValue } from '../../util/yaml-value.js';
import { parseCategory, type Category } from './parse.js';

export type { Category } from './parse.js';

/** Classifier settings fitted on labelled data, stored beside the categories. */
export interface CatalogSettings {
  threshold?: number;
  min_margin?: number;
}

export interface CatalogSource {
  dir: string;
  categories: Category[];
  settings: CatalogSettings;
  warnings: string[];
}

export const SETTINGS_FILE = '_settings.yaml';

export class CatalogError extends Error {
  constructor(readonly problems: string[]) {
    super(`reference prompts invalid:\n  ${problems.join('\n  ')}`);
    this.name = 'CatalogError';
  }
}

const SettingsSchema = z
  .object({ threshold: z.number().min(-1).max(1).optional(), min_margin: z.number().min(0).max(2).optional() })
  .strict();

/** Whether a directory entry is a category file. */
export const isCategoryFile = (name: string): boolean =>
  /\.(ya?ml|md|txt)$/i.test(name) && !/^[_.]/.test(name) && name.toLowerCase() !== 'readme.md';

async function readSettings(file: string, problems: string[]): Promise<CatalogSettings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  if (doc.errors.length > 0) {
    problems.push(...doc.errors.map((e) => `${file}:${lc.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`));
    return {};
  }
  const value = documentValue(doc, lc);
  if (!value.ok) {
    problems.push(`${file}:${value.line}: ${value.message}`);
    return {};
  }
  const parsed = SettingsSchema.safeParse(value.value ?? {});
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((i) => `${file}:1: ${i.path.join('.') || '(file)'}: ${i.message}`));
    return {};
  }
  return parsed.data;
}

export async function loadCatalog(dir: string): Promise<CatalogSource> {
  const abs = path.resolve(dir);
  let names: string[];
  try {
    const entries = (await readdir(abs, { withFileTypes: true })).filter((d) => isCategoryFile(d.name));
    // A symbolic link counts as the file it points to (a Kubernetes ConfigMap volume holds only links).
    const isFile = await Promise.all(entries.map((d) => (d.isSymbolicLink() ? stat(path.join(abs, d.name)).then((s) => s.isFile(), () => false) : d.isFile())));
    names = entries.filter((_, i) => isFile[i]).map((d) => d.name);
  } catch (err) {
    throw new CatalogError([`${abs}: cannot read the reference-prompt folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  names.sort();
  const problems: string[] = [];
  const warnings: string[] = [];
  const [texts, settings] = await Promise.all([
    Promise.all(names.map((n) => readFile(path.join(abs, n), 'utf8'))),
    readSettings(path.join(abs, SETTINGS_FILE), problems),
  ]);
  const categories: Category[] = [];
  const byName = new Map<string, string>();
  names.forEach((n, i) => {
    const file = path.join(abs, n);
    const r = parseCategory(file, texts[i]);
    problems.push(...r.errors);
    warnings.push(...r.warnings);
    if (!r.category) return;
    // A signal set (metadata.signal, e.g. the jailbreak examples) is scored separately by its owner, never as an intent.
    if (r.category.metadata['signal'] !== undefined) return;
    const first = byName.get(r.category.name);
    if (first) {
      problems.push(`${file}:1: category '${r.category.name}' is already defined in ${first}`);
      return;
    }
    byName.set(r.category.name, file);
    categories.push(r.category);
  });
  if (problems.length === 0 && categories.length === 0) problems.push(`${abs}: no reference-prompt files (*.yaml, *.md, *.txt)`);
  if (problems.length > 0) throw new CatalogError(problems);
  return { dir: abs, categories, settings, warnings };
}
