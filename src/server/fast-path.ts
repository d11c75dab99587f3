/**
 * The OpenAI routes' fast path: POST /v1/chat/completions, /v1/completions and /v1/embeddings with a plain JSON body are
 * served straight from node:http — the body read up to the configured limit and parsed once — without express's router and
 * body parser on the hot path. Everything else (other routes and methods, compressed or non-JSON bodies) goes to the express
 * app, which serves the same routes with the same behaviour.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, invalidRequest } from '../errors.js';
import type { Operation } from '../providers/types.js';
import { serveProxy, type GatewayHandle } from './app.js';
import { writeError } from './write-reply.js';

const ROUTES: Readonly<Record<string, Operation>> = { '/v1/chat/completions': 'chat', '/v1/completions': 'completion', '/v1/embeddings': 'embedding' };
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** "4mb" → bytes (the config schema admits only <n>b | kb | mb). */
export function limitBytes(limit: string): number {
  const m = /^(\d+)(b|kb|mb)$/i.exec(limit);
  return m ? Number(m[1]) * UNITS[m[2].toLowerCase()] : 4 * UNITS.mb;
}

/** The operation for a fast-path URL (query ignored, case-insensitive, optional trailing slash, as express routes match). */
function operationOf(url: string | undefined): Operation | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return ROUTES[path.toLowerCase()];
}

const tooLarge = (limit: number): GatewayError =>
  new GatewayError({ status: 413, message: `The request body exceeds the ${limit} byte limit.`, type: 'invalid_request_error', code: 'request_too_large', failure: 'caller' });

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      reject(tooLarge(limit));
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
    req.on('error', reject);
  });
}

export function withFastPath(gw: GatewayHandle, app: (req: IncomingMessage, res: ServerResponse) => void) {
  return function switchyardHandler(req: IncomingMessage, res: ServerResponse): void {
    const op = req.method === 'POST' ? operationOf(req.url) : undefined;
    const type = req.headers['content-type'];
    const encoding = req.headers['content-encoding'];
    if (op === undefined || type === undefined || !JSON_TYPE.test(type) || (encoding !== undefined && encoding !== 'identity')) {
      app(req, res);
      return;
    }
    const limit = limitBytes(gw.bodyLimit());
    readBody(req, limit).then(
      (raw) => {
        let body: unknown;
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          writeError(res, invalidRequest('The request body is not valid JSON.', null, 'invalid_json'));
          return;
        }
        void serveProxy(gw, op, req, res, body);
      },
      (err: unknown) => {
        if (err instanceof GatewayError && err.status === 413) res.setHeader('connection', 'close');
        writeError(res, err);
      },
    );
  };
}
