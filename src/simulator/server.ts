/**
 * The upstream simulator: a real node:http server speaking the OpenAI, Anthropic or Azure OpenAI protocol with
 * deterministic replies, request recording and fault injection. Used by the demo mode, the tests and the benchmarks.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAnthropicHandler } from './anthropic-protocol.js';
import { createAzureHandler } from './azure-protocol.js';
import { defaultFaultMessage, FaultSchedule } from './faults.js';
import { createOpenAIHandler } from './openai-protocol.js';
import { makeId } from './text.js';
import type { Fault, ProtocolHandler, RecordedRequest, SimReply, Simulator, SimulatorOptions } from './types.js';

function handlerFor(opts: SimulatorOptions, name: string): ProtocolHandler {
  switch (opts.protocol) {
    case 'openai': return createOpenAIHandler(name, opts.models);
    case 'azure': return createAzureHandler(name, opts.models);
    case 'anthropic': return createAnthropicHandler(name, opts.models);
    default: throw new TypeError(`unknown simulator protocol '${String(opts.protocol)}'`);
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const name = opts.name ?? opts.protocol;
  const handler = handlerFor(opts, name);
  const faults = new FaultSchedule();
  const requests: RecordedRequest[] = [];
  const keys = opts.apiKeys === undefined ? undefined : new Set(opts.apiKeys);
  const latencyMs = opts.latencyMs ?? 0;
  const chunkDelayMs = opts.tokensPerChunkDelayMs ?? 0;
  let remaining: number | null = opts.remainingRequests === undefined ? 1000 : opts.remainingRequests;
  let counter = 0;
  const sockets = new Set<Socket>();

  function baseHeaders(contentType: string, extra: Record<string, string> | undefined): Record<string, string> {
    const h: Record<string, string> = { 'content-type': contentType, 'x-request-id': makeId('req_', name, ++counter, 20) };
    if (remaining !== null) h['x-ratelimit-remaining-requests'] = String(remaining);
    return extra === undefined ? h : { ...h, ...extra };
  }

  function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> | undefined, fault: Fault | undefined, rec?: RecordedRequest): void {
    const bytes = Buffer.from(JSON.stringify(body));
    if (rec !== undefined) rec.sent = bytes.toString('utf8');
    res.writeHead(status, { ...baseHeaders('application/json', extra), 'content-length': String(bytes.length) });
    if (fault?.cutAfterChunks !== undefined) {
      res.write(bytes.subarray(0, bytes.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.end(bytes);
  }

  async function sendStream(res: ServerResponse, reply: Extract<SimReply, { kind: 'stream' }>, fault: Fault | undefined, rec: RecordedRequest): Promise<void> {
    res.writeHead(200, { ...baseHeaders('text/event-stream; charset=utf-8', reply.headers), 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    const cutAt = fault?.cutAfterChunks;
    const errorAt = fault?.errorEvent === true ? (fault.afterChunks ?? 0) : undefined;
    for (let i = 0; i < reply.frames.length; i++) {
      if (res.destroyed) return;
      if (cutAt !== undefined && i >= cutAt) {
        res.socket?.destroy();
        return;
      }
      if (errorAt !== undefined && i >= errorAt) {
        rec.sent += reply.errorFrame;
        res.end(reply.errorFrame);
        return;
      }
      rec.sent += reply.frames[i];
      if (cutAt !== undefined) await new Promise<void>((resolve) => res.write(reply.frames[i], () => resolve()));
      else res.write(reply.frames[i]);
      if (chunkDelayMs > 0 && i < reply.frames.length - 1) await sleep(chunkDelayMs);
    }
    res.end();
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://simulator');
    let body: Record<string, unknown> | undefined;
    let badJson = false;
    const text = raw.toString('utf8');
    if (raw.length > 0) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
        else badJson = true;
      } catch {
        badJson = true;
      }
    }
    const fault = faults.next();
    const key = handler.keyOf(req.headers);
    const finished = new Promise<void>((resolve) => res.once('close', () => resolve()));
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body, text, key, fault, sent: '', finished };
    requests.push(rec);

    if (fault?.reset === true) {
      req.socket.destroy();
      return;
    }
    if (fault?.hang === true) return; // the socket stays open until the client gives up or the simulator closes
    const delay = latencyMs + (fault?.delayMs ?? 0);
    if (delay > 0) {
      await sleep(delay);
      if (res.destroyed) return;
    }
    if (fault?.status !== undefined) {
      sendJson(res, fault.status, fault.body ?? handler.errorBody(fault.status, defaultFaultMessage(fault.status)), fault.headers, undefined);
      return;
    }
    if (keys !== undefined && (key === undefined || !keys.has(key))) {
      sendJson(res, 401, handler.errorBody(401, 'Incorrect API key provided.'), fault?.headers, undefined);
      return;
    }
    if (badJson) {
      sendJson(res, 400, handler.errorBody(400, 'The request body is not valid JSON.'), fault?.headers, undefined);
      return;
    }
    const reply = handler.handle(req.method ?? 'GET', url, body, req.headers);
    const extra = fault?.headers === undefined ? reply.headers : { ...reply.headers, ...fault.headers };
    if (reply.kind === 'json') {
      if (fault?.errorEvent === true && reply.status < 400) {
        sendJson(res, 500, handler.errorBody(500, defaultFaultMessage(500)), extra, undefined);
        return;
      }
      sendJson(res, reply.status, reply.body, extra, fault, rec);
      return;
    }
    await sendStream(res, { ...reply, headers: extra }, fault, rec);
  }

  const server = createServer((req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, handler.errorBody(500, 'Simulator failure'), undefined, undefined);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}${handler.basePath}`;

  return {
    url,
    port: address.port,
    name,
    protocol: opts.protocol,
    requests,
    requestCount: () => requests.length,
    inject: (fault, times) => faults.inject(fault, times),
    setFault: (fault) => faults.set(fault),
    setRemainingRequests: (value) => { remaining = value; },
    reset: () => {
      requests.length = 0;
      faults.clear();
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
