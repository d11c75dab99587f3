/**
 * Reply headers, built in one place that cannot throw. The x-switchyard-* facts of a request — what its stages set (rule,
 * intent, cache, provider and model that answered), the number of upstream attempts and any warnings — are gathered from its
 * context, and every name and value is made safe for HTTP before it is set: a value with characters HTTP forbids (a model
 * name carrying CR/LF or non-Latin text, say) is percent-encoded, an invalid name is dropped.
 */
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../pipeline/context.js';

/** Longest header value sent; longer ones are cut. */
const MAX_VALUE = 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const UNSAFE = /[^\x20-\x7e]/;

/** A header value HTTP accepts: printable ASCII kept, anything else percent-encoded as UTF-8, length capped. */
export function headerValue(value: string): string {
  const v = value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) : value;
  if (!UNSAFE.test(v)) return v;
  let out = '';
  for (const ch of v) out += UNSAFE.test(ch) ? encodeChar(ch) : ch;
  return out.length > MAX_VALUE ? out.slice(0, MAX_VALUE) : out;
}

function encodeChar(ch: string): string {
  try {
    return encodeURIComponent(ch);
  } catch {
    return '%EF%BF%BD'; // a lone surrogate: the replacement character
  }
}

/**
 * The headers of a proxied reply (success or error): the request id (under x-request-id, and under `idHeader` too when the
 * caller's protocol names one), the stages' facts, attempts and warnings.
 */
export function replyHeadersOf(ctx: RequestContext, idHeader?: string): Record<string, string> {
  const out: Record<string, string> = { 'x-request-id': ctx.id, ...ctx.replyHeaders, 'x-switchyard-attempts': String(ctx.attempts.length) };
  if (idHeader !== undefined) out[idHeader] = ctx.id;
  if (ctx.warnings.length > 0) out['x-switchyard-warnings'] = ctx.warnings.join('; ');
  return out;
}

/** The headers as the flat `[name, value, ...]` list `writeHead` takes: invalid names dropped, values made safe. */
export function headerList(headers: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const name in headers) if (TOKEN.test(name)) out.push(name, headerValue(String(headers[name])));
  return out;
}

/** Sets headers on a reply that has not started; never throws (a value that still cannot be set is skipped). */
export function applyHeaders(res: ServerResponse, headers: Readonly<Record<string, string>>): void {
  if (res.headersSent) return;
  for (const name in headers) {
    if (!TOKEN.test(name)) continue;
    try {
      res.setHeader(name, headerValue(String(headers[name])));
    } catch {
      // Unreachable for encoded values; a header is never worth a failed reply.
    }
  }
}

/**
 * Sends the status line and the headers of `list` (from headerList) in one `writeHead`, with no per-header `setHeader`
 * (each of which validates, lower-cases and stores into a dictionary the reply then walks again). Never throws: should
 * Node refuse the list, the headers are set one by one and any it still refuses is skipped.
 */
export function writeHead(res: ServerResponse, status: number, list: readonly string[]): void {
  try {
    res.writeHead(status, list as string[]);
  } catch {
    res.statusCode = status;
    for (let i = 0; i + 1 < list.length; i += 2) {
      try {
        res.setHeader(list[i], list[i + 1]);
      } catch {
        // as in applyHeaders
      }
    }
  }
}
