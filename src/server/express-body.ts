/**
 * express's body reader (body-parser's raw reader), for the requests the fast path does not take: compressed or non-JSON
 * bodies on the proxy routes, the edges' own routes (e.g. /v1/messages/count_tokens) and every other route. It reads
 * behind the check all readers share (request-body.ts `declaredTooLarge`): a body declared larger than server.body_limit is
 * refused at once, where body-parser would answer only after the whole body had arrived. For a compressed body the declared
 * length is the compressed size; body-parser still holds the decompressed bytes to the same limit. A JSON body is parsed
 * as the proxy routes parse theirs (request-body.ts `parseJsonBody`): one over server.limits.max_members object members,
 * max_containers objects and arrays or max_values values is refused before it is parsed, so no route (an unknown one, one
 * behind the admin key) parses a body the proxy routes would refuse.
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import { invalidRequest } from '../errors.js';
import { bodyReadError, declaredTooLarge, JSON_TYPE, limitBytes, parseJsonBody, type InputLimits } from './request-body.js';

type Reader = (req: Request, res: Response, next: (err?: unknown) => void) => void;

/**
 * A reader for the limit current at each request (a config reload applies to it), rebuilt only when the limit changes,
 * behind the shared declared-length check.
 */
function limitedReader(make: (limit: string) => Reader): (limit: string) => Reader {
  let built: { limit: string; read: Reader } | undefined;
  return (limit) => (req, res, next) => {
    const refusal = declaredTooLarge(req, limitBytes(limit));
    if (refusal !== undefined) {
      next(refusal);
      return;
    }
    if (built?.limit !== limit) built = { limit, read: make(limit) };
    built.read(req, res, next);
  };
}

const rawReader = limitedReader((limit) => express.raw({ type: () => true, limit }));

/** The body of an express-routed proxy request (other content types, compressed bodies): raw bytes, decompressed, limited. */
export function rawBodyOf(gw: { bodyLimit(): string }, req: Request, res: Response): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    rawReader(gw.bodyLimit())(req, res, (err?: unknown) => {
      if (err === undefined || err === null) resolve(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      else reject(bodyReadError(err) ?? invalidRequest('The request body could not be read.', null, 'invalid_body'));
    });
  });
}

/**
 * The JSON body reader for every other route: a body declared as JSON is read (limited, decompressed) and parsed into
 * `req.body`; a request with no body or another content type is left as it is. Its refusals go to the app's error
 * handlers (OpenAI envelope).
 */
export function jsonBodies(gw: { bodyLimit(): string; limits(): InputLimits }): RequestHandler {
  return (req, res, next) => {
    const type = req.headers['content-type'];
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    if (!hasBody || type === undefined || !JSON_TYPE.test(type)) {
      next();
      return;
    }
    rawReader(gw.bodyLimit())(req, res, (err?: unknown) => {
      if (err !== undefined && err !== null) {
        next(err);
        return;
      }
      try {
        req.body = parseJsonBody(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), type, gw.limits());
      } catch (e) {
        next(e);
        return;
      }
      next();
    });
  };
}
