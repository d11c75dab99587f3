/**
 * Rewrites the variable table in docs/rules.md (between the variables:begin / variables:end markers) from the catalogue.
 * Run: node --import tsx src/rules/render-docs.ts [path/to/rules.md]
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderVariablesTable } from './variables.js';

const BEGIN = '<!-- variables:begin (generated from src/rules/variables.ts) -->';
const END = '<!-- variables:end -->';

/** Returns `doc` with the generated table between the markers. */
export function embedVariablesTable(doc: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`markers not found: ${BEGIN} … ${END}`);
  return `${doc.slice(0, a + BEGIN.length)}\n${renderVariablesTable()}\n${doc.slice(b)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = process.argv[2] ?? fileURLToPath(new URL('../../docs/rules.md', import.meta.url));
  const doc = await readFile(path, 'utf8');
  await writeFile(path, embedVariablesTable(doc));
  console.log(`updated ${path}`);
}
