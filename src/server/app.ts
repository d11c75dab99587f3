/**
 * The HTTP surface: OpenAI-compatible routes, the other inbound protocols' edges (src/edges/), liveness/readiness, and the
 * admin and stats routes (behind the admin key). Every error leaves in the OpenAI envelope, or in the envelope of the edge
 * that took the request; nothing here knows about providers or rules — it hands a RequestContext to the pipeline and
 * writes what comes back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Request, type Response, type Router } from 'express';
import { GatewayError, asGatewayError } from '../errors.js';
import { buildContext, newContext } from '../pipeline/build-context.js';
import { ANONYMOUS, type Caller, type RequestContext } from '../pipeline/context.js';
import { ClientAbort } from '../pipeline/client-abort.js';
import { drainAfterReply } from '../pipeline/after-reply.js';
import { closeStream } from '../pipeline/stage.js';
import type { Operation, ProviderReply } from '../providers/types.js';
import { requireAdmin } from './admin-auth.js';
import type { ProtocolEdge, StreamEncoder } from '../edges/types.js';
import { replyHeadersOf } from './reply-headers.js';
import { rawBodyOf, jsonBodies } from './express-body.js';
import { bodyReadError, checkLimits, pathDecodeError, forwardableText, lowerHeaders, parseJsonText, type InputLimits } from './request-body.js';
import { NO_PARALLEL_LIMITS, type ParallelLimit } from '../governance/registry.js';
import type { InFlight } from './in-flight.js';
import { writeError, writeReply } from './write-reply.js';
import { openAIStreamEncoder } from '../edges/openai-chat/encode-stream.js';

export interface RequestOutcome {
  ctx: RequestContext;
  status: number;
  error?: GatewayError;
  durationMs: number;
}

export interface GatewayHandle {
  bodyLimit(): string;
  /** Limits every proxied body is checked against (server.limits). */
  limits(): InputLimits;
  /** How long a reply waits for the client to take its bytes before the connection is closed (server.write_timeout_ms). */
  writeTimeoutMs(): number;
  /** Proxied requests being served, bounded by server.max_in_flight and shared fairly between virtual keys. */
  readonly inFlight: InFlight;
  /** The caller's key's, team's and customer's own bounds on requests in flight (rate_limits.max_parallel_requests). */
  parallelLimits(caller: Caller): readonly ParallelLimit[];
  adminKey(): string | undefined;
  authenticate(authorization: string | undefined): Promise<Caller>;
  /** Runs the pipeline for a context (stages + provider chain of the runtime current at arrival). */
  handle(ctx: RequestContext): Promise<ProviderReply>;
  models(): unknown[];
  ready(): { ready: boolean; checks: Record<string, unknown> };
  /** Called once per proxied request when its reply is finished (logs, metrics, stats) — refused requests included. */
  finished(outcome: RequestOutcome): void;
  /**
   * The last resort for anything that escaped a request's own error handling: logs it, counts it, and answers the request
   * with a 500 if it still can. Never throws.
   */
  unexpected(err: unknown, where: string, res?: ServerResponse): void;
  /** Aborted when the shutdown grace period ends: streams still running end with an error event. */
  readonly stopping?: AbortSignal;
  /** Extra routes: OpenAI-style public ones (e.g. /v1/classify) and admin ones mounted behind the admin key. */
  publicRoutes?: Router[];
  adminRoutes?: Router[];
  /** POST routes of other inbound protocols (e.g. /v1/responses, /v1/messages), by lower-case path. */
  edges?: ReadonlyMap<string, ProtocolEdge>;
  /**
   * Other routes of those protocols that read their own body (e.g. /v1/messages/count_tokens) or answer in their own
   * envelope: mounted after the edges' POST routes, before the JSON parser.
   */
  edgeRoutes?: Router[];
}

/**
 * One proxied request, from its raw body to the written reply; shared by the express routes and the fast path. Every
 * refusal — size, content type, JSON, limits, auth, validation — goes through the same catch, so it gets the envelope and
 * reaches the request log and the metrics. Never rejects.
 */
export async function serveProxy(gw: GatewayHandle, route: Operation | ProtocolEdge, req: IncomingMessage, res: ServerResponse, rawBody: Promise<Buffer>): Promise<void> {
  const edge = typeof route === 'string' ? undefined : route;
  const op = edge?.op ?? (route as Operation);
  const startedAt = performance.now();
  // The client's abort: its AbortSignal is made only if something needs one (./pipeline/client-abort.ts).
  const abort = new ClientAbort();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const headers = lowerHeaders(req);
  let body: unknown;
  let text: string | undefined;
  let caller: Caller = ANONYMOUS;
  let ctx: RequestContext | undefined;
  let cut: (() => void) | undefined;
  let reply: ProviderReply | undefined;
  let presented: { reply: ProviderReply; encoder?: StreamEncoder } | undefined;
  let status: number;
  let error: GatewayError | undefined;
  let admitted = false;
  let parallel = NO_PARALLEL_LIMITS;
  try {
    const limits = gw.limits();
    ({ body, text } = parseJsonText(await rawBody, req.headers['content-type'], limits));
    caller = await gw.authenticate(edge?.credential ? edge.credential(headers) : req.headers.authorization);
    parallel = gw.parallelLimits(caller);
    const refusal = gw.inFlight.enter(caller.virtualKeyId, parallel);
    if (refusal !== undefined) throw refusal;
    admitted = true;
    const members = checkLimits(body, limits);
    const accepted = edge ? await edge.accept(body, caller, limits) : undefined;
    ctx = buildContext(op, accepted?.body ?? body, headers, caller, abort, { maxMessages: limits.max_messages, startedAt, protocol: edge?.protocol, native: accepted?.native, afterReply: true,
      // The caller's text stands for the internal body only where no edge converted it, and only if parsing kept all of it.
      bodyText: accepted === undefined ? forwardableText(text, members) : undefined });
    if (accepted) ctx.warnings.push(...accepted.warnings);
    reply = await gw.handle(ctx);
    presented = accepted ? await accepted.present(ctx, reply) : { reply, encoder: openAIStreamEncoder(ctx.op) };
    // At the end of the shutdown grace period a stream still running is cut (the writer ends it with an error event) and its
    // upstream call is aborted too. A JSON reply leaves in one write, so it has nothing to cut.
    if (presented.reply.kind === 'stream' && gw.stopping !== undefined) {
      cut = () => abort.abort();
      gw.stopping.addEventListener('abort', cut, { once: true });
    }
    await writeReply(res, presented.reply, replyHeadersOf(ctx, edge?.requestIdHeader), { stop: gw.stopping, encoder: presented.encoder, writeTimeoutMs: gw.writeTimeoutMs() });
    status = reply.status;
  } catch (err) {
    const gerr = asGatewayError(err);
    if (gerr.failure === 'gateway' && gerr.code === 'internal_error') gw.unexpected(gerr.cause ?? gerr, 'request');
    ctx ??= newContext(op, body, headers, caller, abort, startedAt, edge?.protocol);
    // A streamed reply the writer never took (its edge could not present it) is closed: that frees the upstream and runs the
    // stream's end hooks, so what the upstream was paid is settled and recorded before the log reads the request, as a JSON
    // reply's accounting is below. Closing one the writer already closed does nothing.
    for (const r of [presented?.reply, reply]) {
      try {
        await closeStream(r);
      } catch (e) {
        gw.unexpected(e, 'stream-close');
      }
    }
    status = writeError(res, gerr, replyHeadersOf(ctx, edge?.requestIdHeader), edge?.errorEnvelope);
    error = gerr;
  } finally {
    if (cut !== undefined) gw.stopping?.removeEventListener('abort', cut);
    if (admitted) gw.inFlight.leave(caller.virtualKeyId, parallel);
  }
  // The reply is written. Its accounting runs (also for a reply the upstream delivered and was paid for that failed on its way
  // out), then the request reaches the log and metrics, once: a failure there is the gateway's own, reported, and the reply
  // already written is left as it is.
  const drained = drainAfterReply(ctx, (e) => gw.unexpected(e, 'after-reply'));
  if (drained !== undefined) await drained;
  try {
    gw.finished({ ctx, status, error, durationMs: performance.now() - ctx.startedAt });
  } catch (e) {
    gw.unexpected(e, 'finished');
  }
}

function proxy(gw: GatewayHandle, route: Operation | ProtocolEdge) {
  return function proxyRequest(req: Request, res: Response): Promise<void> {
    return serveProxy(gw, route, req, res, rawBodyOf(gw, req, res));
  };
}

const ADMIN_PREFIXES = ['/admin', '/dashboard', '/metrics', '/v1/cache'];

/** What express's readers and router throw for a broken request (body, path): the caller's fault, as a refusal. */
const callerRefusal = (err: unknown): GatewayError | undefined => bodyReadError(err) ?? pathDecodeError(err);

const parseErrors: ErrorRequestHandler = (err, _req, res, next) => {
  const refusal = callerRefusal(err);
  if (refusal !== undefined) writeError(res, refusal);
  else next(err);
};

/**
 * The last handler: a broken request is refused; anything else that is not a GatewayError is a bug, reported to the last
 * resort before the 500 goes out.
 */
const renderErrors = (gw: GatewayHandle): ErrorRequestHandler => function renderError(err, _req, res, _next) {
  const refusal = err instanceof GatewayError ? err : callerRefusal(err);
  if (refusal === undefined) gw.unexpected(err, 'route');
  writeError(res, refusal ?? err);
};

export function createApp(gw: GatewayHandle): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  // The proxy routes read their own body (the same parsing and limits as the fast path), before the JSON parser below.
  app.post('/v1/chat/completions', proxy(gw, 'chat'));
  app.post('/v1/completions', proxy(gw, 'completion'));
  app.post('/v1/embeddings', proxy(gw, 'embedding'));
  for (const [path, edge] of gw.edges ?? []) app.post(path, proxy(gw, edge));
  for (const r of gw.edgeRoutes ?? []) app.use(r);
  app.use(jsonBodies(gw));
  app.use(parseErrors);

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', (_req, res) => {
    const r = gw.ready();
    res.status(r.ready ? 200 : 503).json({ status: r.ready ? 'ready' : 'not_ready', ...r.checks });
  });

  app.get('/v1/models', async (req, res) => {
    await gw.authenticate(req.headers.authorization);
    res.json({ object: 'list', data: gw.models() });
  });
  app.get('/v1/models/:id', async (req, res) => {
    await gw.authenticate(req.headers.authorization);
    const model = (gw.models() as Array<{ id: string }>).find((m) => m.id === req.params.id);
    if (!model) throw new GatewayError({ status: 404, message: `The model '${req.params.id}' does not exist.`, type: 'invalid_request_error', param: 'model', code: 'model_not_found', failure: 'caller' });
    res.json(model);
  });
  for (const r of gw.publicRoutes ?? []) app.use(r);

  // Admin, dashboard, metrics and cache-stats routes all sit behind the admin key; their routers use full paths.
  const adminAuth = requireAdmin(() => gw.adminKey());
  // Mounted with the same path matcher as the routes behind it (case-insensitive, like express routing), so no spelling of
  // a path can reach a protected route without the key.
  app.use(ADMIN_PREFIXES, (req, res, next) => {
    // The dashboard page itself holds no data (it fetches /dashboard/data with the key), so a browser can open it.
    const dashboardPage = req.baseUrl.toLowerCase() === '/dashboard' && (req.path === '/' || req.path === '');
    if (dashboardPage && (req.method === 'GET' || req.method === 'HEAD') && gw.adminKey()) next();
    else adminAuth(req, res, next);
  });
  for (const r of gw.adminRoutes ?? []) app.use(r);

  app.use((req, _res, next) => {
    next(new GatewayError({ status: 404, message: `Unknown route: ${req.method} ${req.path}`, type: 'invalid_request_error', code: 'unknown_route', failure: 'caller' }));
  });
  app.use(renderErrors(gw));
  return app;
}
