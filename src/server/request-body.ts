/**
 * A proxied request's body at the edge: read up to the configured limit, checked for a JSON content type, parsed once, and
 * walked once against the input limits (nesting depth, string sizes) so nothing later in the pipeline — hashing, redaction,
 * serialisation for the upstream — meets a value it cannot handle. Every refusal is an OpenAI-style 400 (413 for size).
 */
import type { IncomingMessage } from 'node:http';
import { GatewayError, invalidRequest } from '../errors.js';
import { readJsonText } from '../util/json-text-shape.js';

/** Limits applied to every proxied request body (config: server.limits). */
export interface InputLimits {
  /** Deepest nesting of arrays and objects, the body itself being level 1. */
  max_depth: number;
  /** Longest string anywhere in the body, in characters. */
  max_string_chars: number;
  /** Most chat messages in one request, and most inputs in an embeddings `input` or completions `prompt` list. */
  max_messages: number;
  /** Most object members (keys) in the whole body, counted in its text before it is parsed (see `structureOver`). */
  max_members: number;
  /** Most objects and arrays in the whole body, counted in its text before it is parsed (see `structureOver`). */
  max_containers: number;
  /** Most values (array elements and member values) in the whole body, counted as the commas between them (see `structureOver`). */
  max_values: number;
}

const UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** "4mb" → bytes (the config schema admits only <n>b | kb | mb). */
export function limitBytes(limit: string): number {
  const m = /^(\d+)(b|kb|mb)$/i.exec(limit);
  return m ? Number(m[1]) * UNITS[m[2].toLowerCase()] : 4 * UNITS.mb;
}

export const tooLarge = (limit: number): GatewayError =>
  new GatewayError({
    status: 413, message: `The request body exceeds the ${limit} byte limit.`, type: 'invalid_request_error', code: 'request_too_large',
    failure: 'caller', headers: { connection: 'close' },
  });

/**
 * The refusal for a body-parser error (express's readers: size, encoding, an aborted or unreadable body), or the refusal a
 * reader made itself before body-parser ran (`declaredTooLarge`); undefined for an error that is not one of them.
 */
export function bodyReadError(err: unknown): GatewayError | undefined {
  if (err instanceof GatewayError) return err;
  const e = err as { type?: string; limit?: number } | null;
  switch (e?.type) {
    case 'entity.too.large': return tooLarge(e.limit ?? 0);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new GatewayError({ status: 415, message: 'Unsupported request encoding.', type: 'invalid_request_error', code: 'unsupported_encoding', failure: 'caller' });
    case 'entity.parse.failed': return invalidRequest('The request body is not valid JSON.', null, 'invalid_json');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return unreadableBody();
    default: return undefined;
  }
}

/** A body the client stopped sending (or sent broken): the caller's failure, whichever reader met it. */
const unreadableBody = (): GatewayError => invalidRequest('The request body could not be read.', null, 'invalid_body');

/**
 * The refusal for an error the router meets on the request itself rather than in a handler: a path parameter whose
 * percent-encoding does not decode (the router marks it status 400). Undefined for any other error.
 */
export function pathDecodeError(err: unknown): GatewayError | undefined {
  if (!(err instanceof URIError) || (err as { status?: unknown }).status !== 400) return undefined;
  return invalidRequest('The request path holds a percent-encoding that does not decode.', null, 'invalid_path');
}

/**
 * The check every body reader makes first (this module's and express's): a body whose declared length (Content-Length; for a
 * compressed body, the compressed size) is over `limit` bytes is refused at once with 413, before any of it arrives, and
 * whatever does arrive is discarded. Undefined when the declared length (or its absence) is within the limit.
 */
export function declaredTooLarge(req: IncomingMessage, limit: number): GatewayError | undefined {
  if (!(Number(req.headers['content-length']) > limit)) return undefined;
  req.resume();
  return tooLarge(limit);
}

/** Reads the body up to `limit` bytes; a larger one (declared or sent) is refused with 413 and the rest is discarded. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const refusal = declaredTooLarge(req, limit);
    if (refusal !== undefined) {
      reject(refusal);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    // The client went away mid-body (node's 'aborted'): refused as express's reader refuses it, never a gateway failure.
    req.on('error', () => reject(unreadableBody()));
  });
}

export const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

/** How many times `byte` occurs in `raw` (a native search), counted up to one past `limit`. */
function countPast(raw: Buffer, byte: number, limit: number): number {
  let n = 0;
  for (let i = raw.indexOf(byte); i !== -1 && n <= limit; i = raw.indexOf(byte, i + 1)) n++;
  return n;
}

/** The bounds on a JSON text's structure, counted before it is parsed. */
export type StructureLimits = Pick<InputLimits, 'max_members' | 'max_containers' | 'max_values'>;

/** Which structural bound of server.limits a JSON text is over (see `structureOver`). */
export type StructureBound = 'members' | 'containers' | 'values';

/**
 * The bound a JSON text is over, or undefined: more than `max_members` object members (colons outside strings), more
 * than `max_containers` objects and arrays (opening braces and brackets outside strings), or more than `max_values`
 * values (`max_values` or more commas outside strings: a list of n values has n - 1). Counted before the text is
 * parsed, because the parse is where such a body costs: `JSON.parse` takes up to ~1.8 µs a member when every key is new
 * (4 MB of distinct keys: 0.3–0.6 s), 0.3 µs an empty object (4 MB of `{}`: 0.4 s), more for nesting (4 MB of `[`
 * then `]`: 0.9–1.3 s) and about 70 ns a number (4 MB of one-digit numbers, two million of them: 130–170 ms), and the
 * walks after it (limits, rule variables, the cache key) each again. First the characters anywhere (native searches,
 * stopped past the limit; most bodies have far fewer); only past a limit are strings told apart, in one reading of the
 * text (`readJsonText`).
 */
export function structureOver(raw: Buffer, limits: StructureLimits): StructureBound | undefined {
  const { max_members: maxMembers, max_containers: maxContainers } = limits;
  const maxCommas = limits.max_values - 1;
  const colons = countPast(raw, COLON, maxMembers);
  const braces = countPast(raw, OPEN_BRACE, maxContainers);
  const containers = braces > maxContainers ? braces : braces + countPast(raw, OPEN_BRACKET, maxContainers - braces);
  if (colons <= maxMembers && containers <= maxContainers && countPast(raw, COMMA, maxCommas) <= maxCommas) return undefined;
  const { over } = readJsonText(raw.toString('latin1'), { members: maxMembers, containers: maxContainers, commas: maxCommas });
  return over === 'commas' ? 'values' : over === 'members' || over === 'containers' ? over : undefined;
}

/** What each structural bound counts, and its refusal's code. */
const STRUCTURE_BOUNDS: Readonly<Record<StructureBound, { limit: keyof StructureLimits; things: string; code: string }>> = {
  members: { limit: 'max_members', things: 'object members (keys)', code: 'too_many_members' },
  containers: { limit: 'max_containers', things: 'objects and arrays', code: 'too_many_containers' },
  values: { limit: 'max_values', things: 'values (array elements and object members)', code: 'too_many_values' },
};

/** The refusal of a body over a structural bound. */
function structureRefusal(bound: StructureBound, limits: StructureLimits): GatewayError {
  const { limit, things, code } = STRUCTURE_BOUNDS[bound];
  return invalidRequest(`The request body holds more than ${limits[limit]} ${things}; this gateway accepts at most ${limits[limit]}.`, null, code);
}

/**
 * Parses a request body as JSON. A content type other than JSON is refused as OpenAI does; none at all is read as JSON.
 * A body over a structural bound (`structureOver`) is refused before it is parsed.
 */
export function parseJsonBody(raw: Buffer, contentType: string | undefined, limits: StructureLimits): unknown {
  return parseJsonText(raw, contentType, limits).body;
}

/** `parseJsonBody`, also returning the body's text (what an unchanged request forwards as is: RequestContext.bodyText). */
export function parseJsonText(raw: Buffer, contentType: string | undefined, limits: StructureLimits): { body: unknown; text: string } {
  if (contentType !== undefined && contentType !== '' && !JSON_TYPE.test(contentType)) {
    const shown = contentType.slice(0, 100);
    throw new GatewayError({
      status: 400, type: 'invalid_request_error', code: 'unsupported_content_type', failure: 'caller',
      message: `Unsupported content type: '${shown}'. This API method only accepts 'application/json' requests, but you ` +
        `specified the header 'Content-Type: ${shown}'. Please try again with a supported content type.`,
    });
  }
  const over = structureOver(raw, limits);
  if (over !== undefined) throw structureRefusal(over, limits);
  const text = raw.toString('utf8');
  try {
    return { body: JSON.parse(text) as unknown, text };
  } catch {
    throw invalidRequest('We could not parse the JSON body of your request. The request body must be valid JSON.', null, 'invalid_json');
  }
}

interface Violation {
  kind: 'depth' | 'string';
  /** Path below the offending top-level field, built while unwinding. */
  path: string;
  length: number;
}

/**
 * One walk over the parsed body; recursion is bounded by max_depth, so a hostile nesting cannot exhaust the stack. Counts
 * the objects' members in `seen.members` on the way (see `forwardableText`).
 */
function walk(v: unknown, depth: number, limits: InputLimits, seen: { members: number }): Violation | undefined {
  if (typeof v === 'string') return v.length > limits.max_string_chars ? { kind: 'string', path: '', length: v.length } : undefined;
  if (v === null || typeof v !== 'object') return undefined;
  if (depth >= limits.max_depth) return { kind: 'depth', path: '', length: 0 };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = walk(v[i], depth + 1, limits, seen);
      if (r !== undefined) {
        r.path = `[${i}]${r.path}`;
        return r;
      }
    }
    return undefined;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    seen.members++;
    const r = walk(o[k], depth + 1, limits, seen);
    if (r !== undefined) {
      r.path = `.${k}${r.path}`;
      return r;
    }
  }
  return undefined;
}

/**
 * Checks a parsed body against the input limits; throws the first violation as a 400 naming the field. Returns the number
 * of object members the body holds (what `forwardableText` compares its text with).
 */
export function checkLimits(body: unknown, limits: InputLimits): number {
  const seen = { members: 0 };
  const r = walk(body, 0, limits, seen);
  if (r === undefined) return seen.members;
  const path = r.path.startsWith('.') ? r.path.slice(1) : r.path;
  const param = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  if (r.kind === 'depth') {
    throw invalidRequest(`Invalid '${param}': the request nests arrays and objects deeper than ${limits.max_depth} levels.`, param, 'nesting_too_deep');
  }
  throw invalidRequest(
    `Invalid '${param}': string too long. Expected a string with maximum length ${limits.max_string_chars}, but got a string with length ${r.length} instead.`,
    param, 'string_above_max_length',
  );
}

/**
 * `text` when it may go upstream in place of its parsed body (RequestContext.bodyText): when the body holds every member the
 * text names — `members` as `checkLimits` counted them. A key repeated in one object survives parsing once (the last), so
 * its text would carry values no stage inspected (an earlier `messages` with the personal data a policy refuses, say) to an
 * upstream, whose parser may even keep the first: such a text is not forwarded, the parsed body is serialised instead.
 * Outside strings, each ':' of JSON text is one member; the strings are skipped by searching for their closing quote.
 */
export function forwardableText(text: string, members: number): string | undefined {
  let colons = 0;
  let i = 0;
  for (;;) {
    const open = text.indexOf('"', i);
    const end = open < 0 ? text.length : open;
    for (let j = i; j < end; j++) if (text.charCodeAt(j) === 58) colons++;
    if (open < 0) break;
    // The closing quote: the next one not escaped (preceded by an even number of backslashes).
    let close = open;
    for (;;) {
      close = text.indexOf('"', close + 1);
      if (close < 0) return undefined; // not JSON text: never forwarded
      let b = close - 1;
      while (text.charCodeAt(b) === 92) b--;
      if ((close - 1 - b) % 2 === 0) break;
    }
    i = close + 1;
  }
  return colons === members ? text : undefined;
}

/** A request's headers as one string per lower-cased name (repeated ones joined). */
export function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const given = req.headers;
  for (const k in given) {
    const v = given[k];
    if (v !== undefined) out[k] = typeof v === 'string' ? v : v.join(', ');
  }
  return out;
}
