/**
 * express's body readers (body-parser's raw and JSON), for the requests the fast path does not take: compressed or non-JSON
 * bodies on the proxy routes, the edges' own routes (e.g. /v1/messages/count_tokens) and every other route. Each reads
 * behind the check all readers share (request-body.ts `declaredTooLarge`): a body declared larger than server.body_limit is
 * refused at once, where body-parser would answer only after the whole body had arrived. For a compressed body the declared
 * length is the compressed size; body-parser still holds the decompressed bytes to the same limit.
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import { invalidRequest } from '../errors.js';
import { bodyReadError, declaredTooLarge, limitBytes } from './request-body.js';

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
const jsonReader = limitedReader((limit) => express.json({ limit, type: ['application/json', 'application/*+json'] }));

/** The body of an express-routed proxy request (other content types, compressed bodies): raw bytes, decompressed, limited. */
export function rawBodyOf(gw: { bodyLimit(): string }, req: Request, res: Response): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    rawReader(gw.bodyLimit())(req, res, (err?: unknown) => {
      if (err === undefined || err === null) resolve(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      else reject(bodyReadError(err) ?? invalidRequest('The request body could not be read.', null, 'invalid_body'));
    });
  });
}

/** The JSON body parser for every other route; its refusals go to the app's error handlers (OpenAI envelope). */
export function jsonBodies(gw: { bodyLimit(): string }): RequestHandler {
  return (req, res, next) => jsonReader(gw.bodyLimit())(req, res, next);
}
