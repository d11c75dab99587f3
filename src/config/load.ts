/**
 * Loads a config file: YAML → ${ENV} substitution → schema validation. Errors carry the config path and the file's line, e.g.
 * `config.yaml:12 providers.openai.keys[1].weight: expected number, received string`. Nothing is half-applied: the caller gets a
 * whole valid Config or the list of errors.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { documentValue } from '../util/yaml-value.js';
import { resolveConfigPaths } from './paths.js';
import { configSchema, type Config } from './schema.js';

export type LoadResult = { ok: true; config: Config } | { ok: false; errors: string[] };

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(root)';
}

/**
 * A `${VAR}` whose variable is unset or empty: where it stood, its name, and whether the setting was removed (then it is an
 * error only if the schema requires the setting) or the reference sits in a longer text or a list (always an error).
 */
interface UnsetRef { path: (string | number)[]; name: string; line: number | undefined; removed: boolean }

const WHOLE_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

/**
 * Replaces ${VAR} and ${VAR:-default} in every string scalar. A mapping value that is one whole reference resolving to nothing
 * (unset or empty, no default) is removed, as if the setting were not written: `admin_key: ${SWITCHYARD_ADMIN_KEY}` leaves the
 * admin routes off when the variable is unset. Unset references are collected: a required setting that ends up missing, or a
 * reference inside a longer text, is reported naming the variable.
 */
function substituteEnv(node: unknown, path: (string | number)[], env: NodeJS.ProcessEnv, unset: UnsetRef[], lines: LineCounter): void {
  const lineAt = (n: Node): number | undefined => (n.range ? lines.linePos(n.range[0]).line : undefined);
  if (isMap(node)) {
    node.items = node.items.filter((pair) => {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const whole = isScalar(pair.value) && typeof pair.value.value === 'string' ? WHOLE_REF.exec(pair.value.value) : null;
      if (whole && !env[whole[1]] && !whole[2]) {
        unset.push({ path: [...path, key], name: whole[1], line: lineAt(pair.value as Node), removed: true });
        return false;
      }
      substituteEnv(pair.value, [...path, key], env, unset, lines);
      return true;
    });
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => substituteEnv(item, [...path, i], env, unset, lines));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
    node.value = node.value.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      unset.push({ path, name, line: lineAt(node), removed: false });
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

/** Parses and validates config text. `file` names it in messages; relative paths in it resolve against its folder. */
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
  const unset: UnsetRef[] = [];
  substituteEnv(doc.contents, [], env, unset, lines);
  const notSet = (u: UnsetRef): string => `${file}:${u.line ?? '?'} ${formatPath(u.path)}: environment variable ${u.name} is not set`;
  const inText = unset.filter((u) => !u.removed);
  if (inText.length > 0) return { ok: false, errors: inText.map(notSet) };
  const value = documentValue(doc, lines);
  if (!value.ok) return { ok: false, errors: [`${file}:${value.line} ${value.message}`] };
  const raw: unknown = value.value ?? {};
  resolveConfigPaths(raw, path.dirname(path.resolve(file)));
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return { ok: true, config: parsed.data };
  const removedAt = (at: ReadonlyArray<PropertyKey>): UnsetRef | undefined =>
    unset.find((u) => u.path.length === at.length && u.path.every((p, i) => p === at[i]));
  return {
    ok: false,
    errors: parsed.error.issues.map((i) => {
      const u = removedAt(i.path);
      return u ? notSet(u) : `${file}:${lineOf(doc, lines, i.path) ?? '?'} ${formatPath(i.path)}: ${describeIssue(i)}`;
    }),
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
