/**
 * The proxy routes' fast path: POST /v1/chat/completions, /v1/completions, /v1/embeddings and the other protocols' edges
 * (e.g. /v1/responses) with a plain JSON body are
 * served straight from node:http — the body read up to the configured limit and parsed once — without express's router and
 * body parser on the hot path. Everything else (other routes and methods, compressed or non-JSON bodies) goes to the express
 * app, which serves the same routes with the same behaviour.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Operation } from '../providers/types.js';
import { serveProxy, type GatewayHandle } from './app.js';
import type { ProtocolEdge } from '../edges/types.js';
import { JSON_TYPE, limitBytes, readBody } from './request-body.js';

const ROUTES: Readonly<Record<string, Operation>> = { '/v1/chat/completions': 'chat', '/v1/completions': 'completion', '/v1/embeddings': 'embedding' };

/** The route for a fast-path URL (query ignored, case-insensitive, optional trailing slash, as express routes match). */
function routeOf(url: string | undefined, edges: GatewayHandle['edges']): Operation | ProtocolEdge | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  path = path.toLowerCase();
  return ROUTES[path] ?? edges?.get(path);
}

export function withFastPath(gw: GatewayHandle, app: (req: IncomingMessage, res: ServerResponse) => void) {
  return function switchyardHandler(req: IncomingMessage, res: ServerResponse): void {
    try {
      const op = req.method === 'POST' ? routeOf(req.url, gw.edges) : undefined;
      const type = req.headers['content-type'];
      const encoding = req.headers['content-encoding'];
      if (op === undefined || type === undefined || !JSON_TYPE.test(type) || (encoding !== undefined && encoding !== 'identity')) {
        app(req, res);
        return;
      }
      // serveProxy never rejects; the catch is the last resort should that ever change.
      serveProxy(gw, op, req, res, readBody(req, limitBytes(gw.bodyLimit()))).catch((err: unknown) => gw.unexpected(err, 'request', res));
    } catch (err) {
      gw.unexpected(err, 'request', res);
    }
  };
}
