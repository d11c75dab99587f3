/**
 * The HTTP edge's writer: a JSON reply as bytes (the upstream's own when it spoke OpenAI format), a streamed reply as SSE with
 * backpressure, and errors in the OpenAI envelope. A stream that breaks after its first byte ends with an SSE error event and no
 * [DONE] — never a clean-looking finish.
 */
import type { ServerResponse } from 'node:http';
import { asGatewayError, type GatewayError } from '../errors.js';
import { SSE_DONE } from '../providers/sse.js';
import type { ProviderReply, StreamReply } from '../providers/types.js';

export function setHeaders(res: ServerResponse, headers: Record<string, string>): void {
  for (const name in headers) res.setHeader(name, headers[name]);
}

export function writeError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): void {
  const gerr: GatewayError = asGatewayError(err);
  if (res.headersSent) {
    res.end();
    return;
  }
  setHeaders(res, headers);
  setHeaders(res, gerr.headers);
  res.statusCode = gerr.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(gerr.toJSON()));
}

export async function writeReply(res: ServerResponse, reply: ProviderReply, headers: Record<string, string>): Promise<void> {
  setHeaders(res, headers);
  if (reply.kind === 'json') {
    res.statusCode = reply.status;
    res.setHeader('content-type', 'application/json');
    res.end(reply.raw ?? JSON.stringify(reply.body));
    return;
  }
  await writeStream(res, reply);
}

function waitDrain(res: ServerResponse): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function writeStream(res: ServerResponse, reply: StreamReply): Promise<void> {
  res.statusCode = reply.status;
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('connection', 'keep-alive');
  res.setHeader('x-accel-buffering', 'no');
  res.flushHeaders();
  const iterator = reply.parts[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (res.destroyed) break;
      const next = await iterator.next();
      if (next.done) {
        // The source ended without a terminator: report it rather than finishing cleanly.
        res.write(`data: ${JSON.stringify({ error: { message: 'The upstream stream ended unexpectedly.', type: 'upstream_error', code: 'stream_incomplete' } })}\n\n`);
        break;
      }
      const part = next.value;
      let ok = true;
      if (part.type === 'chunk') {
        if (part.hidden) continue;
        ok = res.write(`data: ${part.raw ?? JSON.stringify(part.chunk)}\n\n`);
      }
      else if (part.type === 'done') {
        res.write(SSE_DONE);
        break;
      } else {
        res.write(`data: ${JSON.stringify({ error: part.error })}\n\n`);
        break;
      }
      if (!ok) {
        if (res.destroyed) break;
        await waitDrain(res);
      }
    }
  } catch (err) {
    const gerr = asGatewayError(err);
    if (!res.destroyed) res.write(`data: ${JSON.stringify(gerr.toJSON())}\n\n`);
  } finally {
    // Closing the iterator runs the observers' end hooks and aborts upstream work when the client left early.
    await iterator.return?.();
    res.end();
  }
}
