/**
 * JSON checks: the answer parses as JSON and, when the request's `response_format` carries a `json_schema`, it validates
 * against that schema (ajv). Compiled validators are kept per schema text in a small bounded map, and nowhere else.
 */
import { createRequire } from 'node:module';
import type { Ajv, SchemaValidateFunction, ValidateFunction } from 'ajv';
import { fail, PASS, type Verdict } from '../types.js';
import { linearRegExp } from './linear-pattern.js';
import { PatternBudgetExceeded, withPatternBudget } from '../../util/re2.js';

/** Patterns (`pattern`, `patternProperties`) run on re2js, in linear time: the schema is the caller's, the text the model's. */
const OPTIONS = { strict: false, allErrors: false, validateFormats: false, code: { regExp: linearRegExp } } as const;
const MAX_VALIDATORS = 256;
const validators = new Map<string, ValidateFunction | Error>();
/**
 * Ajv keeps what it compiles for good (each validator and its schema in the instance's code scope, each `$id` among its
 * refs), and the schemas come from callers: an instance compiles MAX_VALIDATORS schemas and is then replaced, so the
 * map above (first in, first out) reaches at most two instances, and an old one goes once its validators leave the map.
 */
let ajv: Ajv | undefined;
let compiled = 0;
/** What an instance holds of its own (its meta-schema), kept when a request's schema is let go. */
let OWN_SCHEMAS: ReadonlySet<string> = new Set();
let OWN_REFS: ReadonlySet<string> = new Set();
/**
 * A fresh instance. Ajv (CommonJS) is loaded on the first schema to check, not at start-up: most gateways never check one.
 */
function newAjv(): Ajv {
  const { Ajv: AjvClass } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  const instance = new AjvClass(OPTIONS);
  // Ajv compares the items of an array that may hold arrays or objects pairwise (n² / 2 deep comparisons): replaced by
  // one canonical text per item in a map.
  instance.removeKeyword('uniqueItems');
  instance.addKeyword({ keyword: 'uniqueItems', type: 'array', schemaType: 'boolean', validate: uniqueItems });
  OWN_SCHEMAS = new Set(Object.keys(instance.schemas));
  OWN_REFS = new Set(Object.keys(instance.refs));
  return instance;
}

/**
 * A JSON value's text with every object's keys sorted: two values have the same text when they are deeply equal, as
 * Ajv's own uniqueItems compares them. Recurses with the value, which is never deeper than MAX_ANSWER_DEPTH here.
 */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

/** `uniqueItems` in one pass: each item's canonical text looked up in a map of those seen. */
const uniqueItems: SchemaValidateFunction = (schema: boolean, data: unknown[]): boolean => {
  uniqueItems.errors = undefined;
  if (!schema || data.length < 2) return true;
  const seen = new Map<string, number>();
  for (let i = 0; i < data.length; i++) {
    const key = canonical(data[i]);
    const j = seen.get(key);
    if (j !== undefined) {
      uniqueItems.errors = [{ keyword: 'uniqueItems', params: { i, j }, message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)` }];
      return false;
    }
    seen.set(key, i);
  }
  return true;
};

/** The JSON schema a request asks for (`response_format: {type: "json_schema", json_schema: {schema}}`), if any. */
export function requestedSchema(body: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  const rf = body.response_format as { type?: unknown; json_schema?: { schema?: unknown } } | undefined;
  if (!rf || rf.type !== 'json_schema') return undefined;
  const schema = rf.json_schema?.schema;
  return schema && typeof schema === 'object' && !Array.isArray(schema) ? (schema as Record<string, unknown>) : undefined;
}

function validatorFor(schema: Record<string, unknown>): ValidateFunction | Error {
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (v === undefined) {
    if (ajv === undefined || compiled >= MAX_VALIDATORS) {
      ajv = newAjv();
      compiled = 0;
    }
    compiled++;
    try {
      v = ajv.compile(schema);
    } catch (err) {
      v = err instanceof Error ? err : new Error(String(err));
    } finally {
      forget(ajv, schema);
    }
    if (validators.size >= MAX_VALIDATORS) validators.delete(validators.keys().next().value!);
    validators.set(key, v);
  }
  return v;
}

/**
 * Drops a request's schema from the instance's registry once compiled (the validator stands alone): its `$id`s would
 * otherwise refuse another caller's schema that uses the same ids.
 */
function forget(instance: Ajv, schema: Record<string, unknown>): void {
  try {
    instance.removeSchema(schema);
  } catch {
    // An `$id` Ajv cannot read: the sweep below still removes what was added.
  }
  const registry = instance as unknown as { schemas: Record<string, unknown>; refs: Record<string, unknown> };
  for (const k of Object.keys(registry.schemas)) if (!OWN_SCHEMAS.has(k)) delete registry.schemas[k];
  for (const k of Object.keys(registry.refs)) if (!OWN_REFS.has(k)) delete registry.refs[k];
}

/** A fence's opening line (and blank lines after it): anchored, one backtrack at most per character of its blanks. */
export const FENCE_OPEN = /^```(?:json)?\s*\n/i;

/**
 * Strips one surrounding ```json fence, which models often add: what lies between the opening line and a closing ``` that
 * ends the text (less one newline before it). Not one expression: a lazy body before an anchored end is tried again from
 * each newline of the blanks after the opening, so an answer of "```" and n blank lines cost n² / 2 steps.
 */
export function unfence(text: string): string {
  const t = text.trim();
  if (!t.endsWith('```')) return t;
  const open = FENCE_OPEN.exec(t);
  if (!open) return t;
  const start = open[0].length;
  const end = t.endsWith('\n```') && t.length - 4 >= start ? t.length - 4 : t.length - 3;
  return t.slice(start, end);
}

/**
 * The pattern searching one answer may cost, in (text length + 1) × (program size + 5) units (src/util/re2.ts): at
 * most ~50–65 ms of re2js measured (its NFA, 17,000 characters against `a[a-g]{50}$`), ~16 ms for 90,000 characters
 * against `^.*$`. Past it the answer is not validated.
 */
export const PATTERN_WORK = 1_000_000;

/**
 * The deepest answer validated against a schema. Ajv's validators recurse with the data (a recursive `$ref` one call or
 * more a level), and the stack ran out near 4,000 levels: an answer nested deeper than this bound is not validated.
 */
export const MAX_ANSWER_DEPTH = 256;

/** Whether `value` nests arrays and objects more than `max` levels deep (the value itself being level 1); no recursion. */
function deeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * Valid JSON, and schema-valid when `schema` is given. A schema ajv cannot compile is not held against the answer
 * (`schemaProblem` reports it so the caller can warn).
 */
export function checkJson(text: string, schema: Record<string, unknown> | undefined, schemaProblem?: (message: string) => void): Verdict {
  let value: unknown;
  try {
    value = JSON.parse(unfence(text));
  } catch (err) {
    return fail('invalid_json', `not valid JSON: ${(err as Error).message}`);
  }
  if (!schema) return PASS;
  const v = validatorFor(schema);
  if (v instanceof Error) {
    schemaProblem?.(`the response_format json_schema cannot be compiled: ${v.message}`);
    return PASS;
  }
  if (deeperThan(value, MAX_ANSWER_DEPTH)) {
    schemaProblem?.(`the answer nests arrays and objects deeper than ${MAX_ANSWER_DEPTH} levels: not checked against the response_format json_schema`);
    return PASS;
  }
  let valid: boolean;
  try {
    valid = withPatternBudget(PATTERN_WORK, () => v(value) as boolean);
  } catch (err) {
    if (!(err instanceof PatternBudgetExceeded)) throw err;
    schemaProblem?.(`the answer's strings are too long to check against the response_format json_schema's patterns (over ${PATTERN_WORK} units of (string length + 1) × (pattern program size + 5))`);
    return PASS;
  }
  if (valid) return PASS;
  const e = v.errors?.[0];
  return fail('schema_mismatch', e ? `${e.instancePath || '/'} ${e.message ?? 'is invalid'}` : 'does not match the schema');
}
