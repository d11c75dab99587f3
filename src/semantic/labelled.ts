/** Labelled JSONL (`{"text", "label"}` a line; label `none` = out of scope) used by fit, eval and build-refs. */
import { readFile } from 'node:fs/promises';

export interface LabelledRow {
  text: string;
  label: string;
}

export const NONE = 'none';

/**
 * The category a label names: characters outside [A-Za-z0-9_.-] become '_' and leading '_', '.', '-' go, so the name is a
 * valid category (file) name. `none` stays `none` (out of scope); a label that would collide with it gets a trailing '_'.
 * build-refs names its category files with it and eval/fit compare gold labels through it, so both agree on every label.
 */
export function categoryOf(label: string): string {
  if (label === NONE) return NONE;
  const name = label.trim().replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[_.-]+/, '') || 'label';
  return name === NONE ? `${NONE}_` : name;
}

/** Reads a labelled JSONL file; a malformed line is an error naming file:line. */
export async function readLabelled(file: string): Promise<LabelledRow[]> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const rows: LabelledRow[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      throw new Error(`${file}:${i + 1}: not valid JSON`);
    }
    const { text, label } = (obj ?? {}) as Record<string, unknown>;
    if (typeof text !== 'string' || typeof label !== 'string') throw new Error(`${file}:${i + 1}: needs string fields "text" and "label"`);
    rows.push({ text, label });
  });
  return rows;
}

/** Several files, comma-separated or repeated, concatenated. */
export async function readLabelledFiles(files: string[]): Promise<LabelledRow[]> {
  const all = await Promise.all(files.flatMap((f) => f.split(',')).filter(Boolean).map(readLabelled));
  return all.flat();
}
