/**
 * Writes fitted thresholds back into a reference folder, preserving each file's other content: YAML files keep their
 * comments and layout (yaml Document edits), line files get their `# threshold:` directive replaced or added at the top.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { SETTINGS_FILE, type CatalogSource } from './load.js';
import type { Category } from './parse.js';

const DIRECTIVE = /^#\s*threshold\s*:.*$/im;

export function setYamlThreshold(text: string, threshold: number | undefined): string {
  const doc = parseDocument(text);
  if (threshold === undefined) doc.delete('threshold');
  else doc.set('threshold', threshold);
  return doc.toString();
}

export function setLinesThreshold(text: string, threshold: number | undefined): string {
  if (threshold === undefined) return text.replace(/^#\s*threshold\s*:.*(\r?\n)?/im, '');
  const line = `# threshold: ${threshold}`;
  return DIRECTIVE.test(text) ? text.replace(DIRECTIVE, line) : `${line}\n${text}`;
}

/** Rewrites category files whose threshold changes and the folder's _settings.yaml. Returns the files written. */
export async function writeThresholds(
  source: CatalogSource,
  perCategory: Map<string, number>,
  settings: { threshold: number; min_margin: number },
): Promise<string[]> {
  const written: string[] = [];
  const update = async (c: Category) => {
    const next = perCategory.get(c.name);
    if (next === c.threshold) return;
    const text = await readFile(c.file, 'utf8');
    await writeFile(c.file, c.format === 'yaml' ? setYamlThreshold(text, next) : setLinesThreshold(text, next));
    written.push(c.file);
  };
  await Promise.all(source.categories.map(update));
  const file = path.join(source.dir, SETTINGS_FILE);
  let text = '# Classifier settings fitted by `switchyard fit`; an explicit value in the gateway config wins.\n';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const doc = parseDocument(text);
  doc.set('threshold', settings.threshold);
  doc.set('min_margin', settings.min_margin);
  await writeFile(file, doc.toString());
  written.push(file);
  return written.sort();
}
