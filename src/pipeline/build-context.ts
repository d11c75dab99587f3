/**
 * Builds the RequestContext from a parsed request body: checks the fields every endpoint needs (with the field named in the
 * error), derives the request type, and fixes the tenant from auth — never from anything the caller can set.
 */
import { randomUUID } from 'node:crypto';
import { invalidRequest } from '../errors.js';
import type { Operation } from '../providers/types.js';
import type { Caller, RequestContext, RequestType } from './context.js';

type Body = Record<string, unknown>;

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function expect(body: Body, field: string, ok: (v: unknown) => boolean, what: string): void {
  const v = body[field];
  if (v !== undefined && !ok(v)) throw invalidRequest(`Invalid type for '${field}': expected ${what}, got ${typeName(v)}.`, field, 'invalid_type');
}

const isInt = (v: unknown): boolean => Number.isInteger(v);
const isNum = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

/** Validates the body for `op`; throws a 400 naming the first bad field. */
export function validateBody(op: Operation, body: unknown): asserts body is Body {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.', null, 'invalid_body');
  }
  const b = body as Body;
  if (b.model === undefined) throw invalidRequest("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (typeof b.model !== 'string' || b.model.length === 0) throw invalidRequest("Invalid type for 'model': expected a non-empty string.", 'model', 'invalid_type');
  expect(b, 'stream', (v) => typeof v === 'boolean', 'a boolean');
  expect(b, 'n', (v) => isInt(v) && (v as number) >= 1, 'an integer >= 1');
  expect(b, 'temperature', isNum, 'a number');
  expect(b, 'top_p', isNum, 'a number');
  expect(b, 'max_tokens', (v) => isInt(v) && (v as number) >= 1, 'an integer >= 1');
  expect(b, 'max_completion_tokens', (v) => isInt(v) && (v as number) >= 1, 'an integer >= 1');
  expect(b, 'user', (v) => typeof v === 'string', 'a string');
  if (op === 'chat') {
    if (b.messages === undefined) throw invalidRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
    if (!Array.isArray(b.messages) || b.messages.length === 0) throw invalidRequest("Invalid 'messages': expected a non-empty array.", 'messages', 'invalid_type');
    b.messages.forEach((m, i) => {
      if (m === null || typeof m !== 'object' || typeof (m as Body).role !== 'string') {
        throw invalidRequest(`Invalid 'messages[${i}]': expected an object with a string 'role'.`, `messages[${i}]`, 'invalid_type');
      }
    });
    expect(b, 'tools', Array.isArray, 'an array');
  } else if (op === 'completion') {
    if (b.prompt === undefined) throw invalidRequest("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
    expect(b, 'prompt', (v) => typeof v === 'string' || Array.isArray(v), 'a string or an array');
  } else {
    if (b.input === undefined) throw invalidRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
    expect(b, 'input', (v) => typeof v === 'string' || Array.isArray(v), 'a string or an array');
    if (b.stream === true) throw invalidRequest('Embeddings cannot be streamed.', 'stream', 'invalid_value');
  }
}

function requestType(op: Operation, stream: boolean): RequestType {
  if (op === 'embedding') return 'embedding';
  if (op === 'completion') return 'text_completion';
  return stream ? 'chat_completion_stream' : 'chat_completion';
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function buildContext(
  op: Operation,
  body: unknown,
  headers: Record<string, string>,
  caller: Caller,
  signal: AbortSignal,
): RequestContext {
  validateBody(op, body);
  const stream = body.stream === true;
  const given = headers['x-request-id'];
  return {
    id: given && REQUEST_ID.test(given) ? given : randomUUID(),
    startedAt: performance.now(),
    op,
    requestType: requestType(op, stream),
    body,
    model: body.model as string,
    stream,
    headers,
    caller,
    signal,
    attempts: [],
    warnings: [],
    replyHeaders: {},
    facts: {},
  };
}
