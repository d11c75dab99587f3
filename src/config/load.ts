/**
 * Loads a config file: YAML → ${ENV} substitution → schema validation. Errors carry the config path and the file's line, e.g.
 * `config.yaml:12 providers.openai.keys[1].weight: expected number, received string`. Nothing is half-applied: the caller gets a
 * whole valid Config or the list of errors.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export type LoadResult = { ok: true; config: Config } | { ok: false; errors: string[] };

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(root)';
}

/** Replaces ${VAR} and ${VAR:-default} in every string scalar, recording unset variables as errors. */
function substituteEnv(node: unknown, path: (string | number)[], env: NodeJS.ProcessEnv, missing: Array<{ path: (string | number)[]; name: string }>): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      substituteEnv(pair.value, [...path, key], env, missing);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => substituteEnv(item, [...path, i], env, missing));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
    node.value = node.value.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      missing.push({ path, name });
      return '';
    });
  }
}

function lineOf(doc: Document, lines: LineCounter, path: ReadonlyArray<PropertyKey>): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
    if (node && typeof node === 'object' && 'range' in node && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  return issue.message;
}

/** Validates an already-parsed plain object (used for embedded defaults and tests). */
export function validateConfig(raw: unknown): LoadResult {
  const parsed = configSchema.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((i) => `${formatPath(i.path)}: ${describeIssue(i)}`) };
}

/**
 * The line to blame for a YAML error. An unterminated quote or flow collection is only noticed where the next line (or the
 * file) begins; the line at fault is the last one with content before that point.
 */
function yamlErrorLine(e: YAMLError, text: string, lines: LineCounter): number {
  const at = lines.linePos(e.pos[0]);
  const unterminated = e.code === 'MISSING_CHAR' || (e.code === 'BAD_INDENT' && /end with a [\]}]/.test(e.message));
  if (!unterminated || at.col !== 1) return at.line;
  let i = Math.min(e.pos[0], text.length) - 1;
  while (i > 0 && /\s/.test(text[i])) i--;
  return lines.linePos(Math.max(0, i)).line;
}

/** Parses and validates config text. `file` is used only in messages. */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => `${file}:${yamlErrorLine(e, text, lines)} ${e.message.split("\n")[0]}`) };
  }
  // An empty file is never a config: it is a truncated write or a `>` redirect, and would drop every provider and key.
  if (doc.contents === null || (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === ''))) {
    return { ok: false, errors: [`${file}: the file is empty (nothing to load); a config must at least be an empty mapping "{}"`] };
  }
  if (!isMap(doc.contents)) return { ok: false, errors: [`${file}:1 the config must be a mapping of sections (server:, providers:, ...)`] };
  const missing: Array<{ path: (string | number)[]; name: string }> = [];
  substituteEnv(doc.contents, [], env, missing);
  if (missing.length > 0) {
    return {
      ok: false,
      errors: missing.map((m) => `${file}:${lineOf(doc, lines, m.path) ?? '?'} ${formatPath(m.path)}: environment variable ${m.name} is not set`),
    };
  }
  const parsed = configSchema.safeParse(doc.toJS() ?? {});
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.map((i) => `${file}:${lineOf(doc, lines, i.path) ?? '?'} ${formatPath(i.path)}: ${describeIssue(i)}`),
  };
}

export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`${file}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`] };
  }
  return parseConfigText(text, file, env);
}
