/**
 * Parses one reference-prompt file. `<category>.yaml|.yml`: name, description, examples, optional threshold and metadata.
 * `<category>.md|.txt`: one example a line; blank lines and `#` comments are ignored, except the directive comments
 * `# description: ...` and `# threshold: 0.6`. Every problem is reported as `file:line: message`.
 */
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Document } from 'yaml';
import { z } from 'zod';
import { NONE_INTENT, UNAVAILABLE_INTENT } from '../classifier.js';
import { COMPLEXITY_BANDS } from '../../cascade/complexity.js';
import { documentValue } from '../../util/yaml-value.js';

export interface Category {
  name: string;
  description: string;
  examples: string[];
  /** Acceptance threshold for this category; undefined = the global one. */
  threshold?: number;
  metadata: Record<string, unknown>;
  /** Source file (absolute path) and its format. */
  file: string;
  format: 'yaml' | 'lines';
}

export interface ParseResult {
  category?: Category;
  errors: string[];
  warnings: string[];
}

/**
 * The `none` category holds explicit out-of-scope examples: the classifier learns it as one more class, and a request it
 * wins is rejected (intent `none`). It has no threshold of its own.
 */
export const NONE_CATEGORY = NONE_INTENT;
const NONE_THRESHOLD = "'none' holds out-of-scope examples; a request it wins is rejected, so it takes no threshold";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** Intent values with a meaning of their own that no category may take: no embedding within the budget. */
const RESERVED: ReadonlySet<string> = new Set([UNAVAILABLE_INTENT]);

const CategorySchema = z
  .object({
    name: z.string().regex(NAME, 'letters, digits, _ . - (starting with a letter or digit)').refine((n) => !RESERVED.has(n), '"unavailable" is reserved (no embedding in time)'),
    description: z.string().default(''),
    examples: z.array(z.string().trim().min(1, 'an example must not be empty')).min(1, 'at least one example is needed'),
    threshold: z.number().min(-1).max(1).optional(),
    /** Free metadata returned with every classification; `tier`, when given, is a complexity band the estimate honours. */
    metadata: z.object({ tier: z.enum(COMPLEXITY_BANDS).optional() }).catchall(z.unknown()).default({}),
  })
  .strict();

/** The category name a file gets when it does not name itself: its file name without the extension. */
export const stemOf = (file: string): string => file.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '');

export const isYaml = (file: string): boolean => /\.ya?ml$/i.test(file);

/** Dedupes examples in order, reporting duplicates as warnings (kept once, never silently). */
function dedupe(examples: string[], where: string, warnings: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of examples) {
    if (seen.has(e)) warnings.push(`${where}: duplicate example ignored: ${JSON.stringify(e.slice(0, 60))}`);
    else {
      seen.add(e);
      out.push(e);
    }
  }
  return out;
}

export function parseYamlCategory(file: string, text: string): ParseResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : lc.linePos(offset).line);
  const errors = doc.errors.map((e) => `${file}:${lineOf(e.pos[0])}: ${e.message.split('\n')[0]}`);
  if (errors.length > 0) return { errors, warnings: [] };
  const value = documentValue(doc, lc);
  if (!value.ok) return { errors: [`${file}:${value.line}: ${value.message}`], warnings: [] };
  const raw = value.value;
  const data = isMap(doc.contents) && !doc.has('name') ? { ...(raw as object), name: stemOf(file) } : raw;
  const parsed = CategorySchema.safeParse(data);
  if (!parsed.success) {
    return {
      errors: parsed.error.issues.map((issue) => `${file}:${lineOf(nodeOffset(doc, issue.path))}: ${issue.path.join('.') || '(file)'}: ${issue.message}`),
      warnings: [],
    };
  }
  const warnings: string[] = [];
  const { name, description, threshold, metadata } = parsed.data;
  if (name === NONE_CATEGORY && threshold !== undefined) return { errors: [`${file}:1: ${NONE_THRESHOLD}`], warnings: [] };
  return {
    category: { name, description, threshold, metadata, examples: dedupe(parsed.data.examples, file, warnings), file, format: 'yaml' },
    errors: [],
    warnings,
  };
}

/** Start offset of the node at `path` (or its nearest existing parent). */
function nodeOffset(doc: Document, path: PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as Array<string | number>, true);
    if (node && (isScalar(node) || isMap(node) || isSeq(node)) && node.range) return node.range[0];
  }
  return undefined;
}

const DIRECTIVE = /^#\s*(description|threshold)\s*:\s*(.*)$/i;

export function parseLinesCategory(file: string, text: string): ParseResult {
  const errors: string[] = [];
  const examples: string[] = [];
  let description = '';
  let threshold: number | undefined;
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = DIRECTIVE.exec(line);
      if (!m) return;
      if (m[1].toLowerCase() === 'description') description = m[2].trim();
      else {
        const t = Number(m[2]);
        if (m[2].trim() === '' || !Number.isFinite(t) || t < -1 || t > 1) errors.push(`${file}:${i + 1}: threshold must be a number in [-1, 1]`);
        else threshold = t;
      }
      return;
    }
    examples.push(line);
  });
  const name = stemOf(file);
  if (!NAME.test(name) || RESERVED.has(name)) errors.push(`${file}:1: the file name '${name}' is not a valid category name`);
  if (name === NONE_CATEGORY && threshold !== undefined) errors.push(`${file}:1: ${NONE_THRESHOLD}`);
  if (examples.length === 0) errors.push(`${file}:1: no examples (one a line; # starts a comment)`);
  if (errors.length > 0) return { errors, warnings: [] };
  const warnings: string[] = [];
  return {
    category: { name, description, threshold, metadata: {}, examples: dedupe(examples, file, warnings), file, format: 'lines' },
    errors: [],
    warnings,
  };
}

export const parseCategory = (file: string, text: string): ParseResult =>
  isYaml(file) ? parseYamlCategory(file, text) : parseLinesCategory(file, text);
