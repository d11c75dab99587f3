/** Labelled JSONL (`{"text", "label"}` a line; label `none` = out of scope) used by fit, eval and build-refs. */
import { readFile } from 'node:fs/promises';

export interface LabelledRow {
  text: string;
  label: string;
}

export const NONE = 'none';

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
