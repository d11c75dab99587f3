/**
 * JSON checks: the answer parses as JSON and, when the request's `response_format` carries a `json_schema`, it validates
 * against that schema (ajv). Compiled validators are kept per schema text in a small bounded map.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { fail, PASS, type Verdict } from '../types.js';

const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
const MAX_VALIDATORS = 256;
const validators = new Map<string, ValidateFunction | Error>();

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
    try {
      v = ajv.compile(schema);
    } catch (err) {
      v = err instanceof Error ? err : new Error(String(err));
    }
    if (validators.size >= MAX_VALIDATORS) validators.delete(validators.keys().next().value!);
    validators.set(key, v);
  }
  return v;
}

/** Strips one surrounding ```json fence, which models often add. */
function unfence(text: string): string {
  const t = text.trim();
  const m = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(t);
  return m ? m[1]! : t;
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
  if (v(value)) return PASS;
  const e = v.errors?.[0];
  return fail('schema_mismatch', e ? `${e.instancePath || '/'} ${e.message ?? 'is invalid'}` : 'does not match the schema');
}
