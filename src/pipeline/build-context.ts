/**
 * Builds the RequestContext from a parsed request body: checks the fields every endpoint needs (with the field named in the
 * error), derives the request type, and fixes the tenant from auth — never from anything the caller can set.
 */
import { randomUUID } from 'node:crypto';
import { invalidRequest } from '../errors.js';
import type { Operation } from '../providers/types.js';
import type { AfterReplyWork } from './after-reply.js';
import type { Attempt, Caller, InboundProtocol, RequestContext, RequestType, RouteDecision } from './context.js';
import type { RequestTrace } from '../observability/tracing.js';
import type { Usage } from '../providers/types.js';
import type { NativeRequest } from '../llm/protocol.js';
import { ClientAbort } from './client-abort.js';
import { warningList } from '../llm/warnings.js';
import type { RequestSlots } from './request-local.js';

type Body = Record<string, unknown>;

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function expect(body: Body, field: string, ok: (v: unknown) => boolean, what: string): void {
  const v = body[field];
  if (v !== undefined && !ok(v)) throw invalidRequest(`Invalid type for '${field}': expected ${what}, got ${typeName(v)}.`, field, 'invalid_type');
}

const isInt = (v: unknown): boolean => Number.isInteger(v);
const isNum = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

/** Longest model name accepted, in characters. */
export const MAX_MODEL_CHARS = 256;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

/** A chat message's content: a string, an array of parts, or null where OpenAI allows it (assistant turns with tool calls). */
function checkContent(m: Body, i: number): void {
  const c = m.content;
  if (typeof c === 'string') return;
  const param = `messages[${i}].content`;
  if (c === null || c === undefined) {
    if (m.role === 'assistant' && (m.tool_calls !== undefined || m.function_call !== undefined || m.refusal !== undefined || c === null)) return;
    throw invalidRequest(`Invalid type for '${param}': expected one of a string or array of objects, but got ${c === null ? 'null' : 'nothing'} instead.`, param, 'invalid_type');
  }
  if (!Array.isArray(c)) {
    throw invalidRequest(`Invalid type for '${param}': expected one of a string or array of objects, but got ${typeName(c)} instead.`, param, 'invalid_type');
  }
  c.forEach((part, j) => {
    if (part === null || typeof part !== 'object' || Array.isArray(part) || typeof (part as Body).type !== 'string') {
      throw invalidRequest(`Invalid '${param}[${j}]': expected an object with a string 'type'.`, `${param}[${j}]`, 'invalid_type');
    }
  });
}

/** A list of items (chat messages, embeddings inputs, completions prompts) no longer than `max`, as OpenAI bounds them. */
function checkLength(name: string, items: unknown[], max: number): void {
  if (items.length > max) {
    throw invalidRequest(
      `Invalid '${name}': array too long. Expected an array with maximum length ${max}, but got an array with length ${items.length} instead.`,
      name, 'array_above_max_length',
    );
  }
}

/**
 * An embeddings `input` or completions `prompt` that is a list of inputs (strings or token arrays) holds at most `max` of
 * them; a flat array of token numbers is one input, bounded by the model's context instead.
 */
function checkInputs(name: string, v: unknown, max: number): void {
  if (Array.isArray(v) && typeof v[0] !== 'number') checkLength(name, v, max);
}

function checkMessages(messages: unknown[], maxMessages: number): void {
  checkLength('messages', messages, maxMessages);
  messages.forEach((m, i) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m) || typeof (m as Body).role !== 'string') {
      throw invalidRequest(`Invalid 'messages[${i}]': expected an object with a string 'role'.`, `messages[${i}]`, 'invalid_type');
    }
    const role = (m as Body).role as string;
    if (!ROLES.has(role)) {
      throw invalidRequest(
        `Invalid value: '${role.slice(0, 64)}'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.`,
        `messages[${i}].role`, 'invalid_value',
      );
    }
    checkContent(m as Body, i);
  });
}

/**
 * An embeddings `input` with nothing to embed — an empty string, an empty array, or an array holding an empty string or an
 * empty token array — is refused here, as OpenAI refuses it, before any upstream is called.
 */
function checkEmbeddingInput(input: string | unknown[]): void {
  const empty = (v: unknown): boolean => (typeof v === 'string' || Array.isArray(v)) && v.length === 0;
  if (empty(input)) {
    throw invalidRequest(`Invalid 'input': expected a non-empty ${typeof input === 'string' ? 'string' : 'array'}.`, 'input', 'invalid_value');
  }
  if (typeof input === 'string') return;
  const i = input.findIndex(empty);
  if (i >= 0) {
    throw invalidRequest(`Invalid 'input[${i}]': expected a non-empty ${typeof input[i] === 'string' ? 'string' : 'array of tokens'}.`, 'input', 'invalid_value');
  }
}

/** Validates the body for `op`; throws a 400 naming the first bad field. */
export function validateBody(op: Operation, body: unknown, maxMessages = 2048): asserts body is Body {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.', null, 'invalid_body');
  }
  const b = body as Body;
  if (b.model === undefined) throw invalidRequest("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (typeof b.model !== 'string' || b.model.length === 0) throw invalidRequest("Invalid type for 'model': expected a non-empty string.", 'model', 'invalid_type');
  if (b.model.length > MAX_MODEL_CHARS || CONTROL.test(b.model)) {
    throw invalidRequest(`Invalid 'model': expected a name of at most ${MAX_MODEL_CHARS} characters without control characters.`, 'model', 'invalid_value');
  }
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
    checkMessages(b.messages, maxMessages);
    expect(b, 'tools', Array.isArray, 'an array');
  } else if (op === 'completion') {
    if (b.prompt === undefined) throw invalidRequest("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
    expect(b, 'prompt', (v) => typeof v === 'string' || Array.isArray(v), 'a string or an array');
    checkInputs('prompt', b.prompt, maxMessages);
  } else {
    if (b.input === undefined) throw invalidRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
    expect(b, 'input', (v) => typeof v === 'string' || Array.isArray(v), 'a string or an array');
    checkInputs('input', b.input, maxMessages);
    checkEmbeddingInput(b.input as string | unknown[]);
    if (b.stream === true) throw invalidRequest('Embeddings cannot be streamed.', 'stream', 'invalid_value');
  }
}

function requestType(op: Operation, stream: boolean): RequestType {
  if (op === 'embedding') return 'embedding';
  if (op === 'completion') return 'text_completion';
  return stream ? 'chat_completion_stream' : 'chat_completion';
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The protocol of each OpenAI endpoint the internal request mirrors. */
const NATIVE_PROTOCOL: Readonly<Record<Operation, InboundProtocol>> = { chat: 'openai.chat', completion: 'openai.completions', embedding: 'openai.embeddings' };

/**
 * A context for a request as it arrived, without validating its body: used as is for a request refused before it was
 * understood (auth, parsing, limits), so it still reaches the request log and the metrics.
 */
export function newContext(
  op: Operation,
  body: unknown,
  headers: Record<string, string>,
  caller: Caller,
  abort: AbortSignal | ClientAbort,
  startedAt = performance.now(),
  protocol: InboundProtocol = NATIVE_PROTOCOL[op],
  native?: NativeRequest,
): RequestContext {
  const b: Body = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Body) : {};
  const stream = b.stream === true;
  const given = headers['x-request-id'];
  const model = typeof b.model === 'string' ? b.model.slice(0, MAX_MODEL_CHARS) : '';
  const id = given && REQUEST_ID.test(given) ? given : randomUUID();
  return new EdgeContext(id, startedAt, op, protocol, requestType(op, stream), b, model, stream, headers, caller, abort, native);
}

/**
 * A request's context as the edge builds it: its fields, and `signal` on the prototype, so a ClientAbort makes its
 * AbortSignal only when something reads it (streams, single-flight waits). A getter in an object literal would give every
 * context a map of its own (a dictionary-mode object, slow to read); a copy made by spreading a context (a cascade tier)
 * must name `signal` itself.
 */
class EdgeContext implements RequestContext {
  upstreamBody?: Readonly<Record<string, unknown>>;
  route?: RouteDecision;
  usage?: Usage;
  trace?: RequestTrace;
  readonly attempts: Attempt[] = [];
  readonly warnings: string[] = warningList();
  readonly replyHeaders: Record<string, string> = {};
  readonly facts: Record<string, unknown> = {};
  afterReply?: AfterReplyWork[];
  bodyText?: { readonly of: object; readonly text: string };
  slots?: RequestSlots;

  constructor(
    readonly id: string,
    readonly startedAt: number,
    readonly op: Operation,
    readonly protocol: InboundProtocol,
    readonly requestType: RequestType,
    readonly body: Readonly<Record<string, unknown>>,
    readonly model: string,
    readonly stream: boolean,
    readonly headers: Readonly<Record<string, string>>,
    readonly caller: Caller,
    readonly clientAbort: AbortSignal | ClientAbort,
    readonly native: NativeRequest | undefined,
  ) {}

  get signal(): AbortSignal {
    const a = this.clientAbort;
    return a instanceof ClientAbort ? a.signal : a;
  }
}

/** Validates the body (a 400 naming the first bad field) and builds the request's context. */
export function buildContext(
  op: Operation,
  body: unknown,
  headers: Record<string, string>,
  caller: Caller,
  abort: AbortSignal | ClientAbort,
  opts: { maxMessages?: number; startedAt?: number; protocol?: InboundProtocol; native?: NativeRequest; afterReply?: boolean; bodyText?: string } = {},
): RequestContext {
  validateBody(op, body, opts.maxMessages);
  const ctx = newContext(op, body, headers, caller, abort, opts.startedAt, opts.protocol, opts.native) as EdgeContext;
  // The edge that writes the reply drains this queue (./after-reply.ts).
  if (opts.afterReply === true) ctx.afterReply = [];
  if (opts.bodyText !== undefined && ctx.body === body) ctx.bodyText = { of: ctx.body, text: opts.bodyText };
  return ctx;
}
