/**
 * The HTTP edge's writer: a JSON reply as bytes (the upstream's own when it spoke OpenAI format), a streamed reply as SSE with
 * backpressure, and errors in the OpenAI envelope. A stream that breaks after its first byte — or that is still running when
 * the shutdown grace period ends — ends with an SSE error event and no [DONE], never a clean-looking finish. The error
 * writer never throws: whatever it cannot send, it gives up by closing the connection.
 */
import type { ServerResponse } from 'node:http';
import { asGatewayError, type GatewayError } from '../errors.js';
import { SSE_DONE } from '../providers/sse.js';
import type { ProviderReply, StreamPart, StreamReply } from '../providers/types.js';
import { applyHeaders } from './reply-headers.js';

const ENVELOPE_FALLBACK = '{"error":{"message":"The gateway failed to handle the request.","type":"server_error","param":null,"code":"internal_error"}}';

/** The envelope's JSON; an error whose fields cannot be serialised still yields a valid envelope. */
function envelope(gerr: GatewayError): string {
  try {
    return JSON.stringify(gerr.toJSON());
  } catch {
    return ENVELOPE_FALLBACK;
  }
}

/** One SSE error event in the envelope's shape. */
const errorEvent = (error: { message: string; type: string; code: string | null }): string => {
  try {
    return `data: ${JSON.stringify({ error })}\n\n`;
  } catch {
    return `data: ${ENVELOPE_FALLBACK}\n\n`;
  }
};

export function writeError(res: ServerResponse, err: unknown, headers: Readonly<Record<string, string>> = {}): void {
  try {
    const gerr: GatewayError = asGatewayError(err);
    if (res.headersSent) {
      res.end();
      return;
    }
    applyHeaders(res, headers);
    applyHeaders(res, gerr.headers);
    res.statusCode = gerr.status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(envelope(gerr));
  } catch {
    res.destroy();
  }
}

/**
 * Turns a stream's parts into the SSE text of the caller's protocol. The writer hands it every part (hidden ones included,
 * for what they carry); after a `done` or `error` part the stream ends.
 */
export interface SseEncoder {
  /** The SSE text for one part ('' sends nothing). */
  encode(part: StreamPart): string | Promise<string>;
  /** The SSE text reporting a failure the parts did not carry (the source ended early or threw, shutdown). */
  failure(error: { message: string; type: string; code: string | null }): string;
}

/** OpenAI chat and completions SSE: each chunk as a data line (the upstream's own text when it has it), then [DONE]. */
export const OPENAI_SSE: SseEncoder = {
  encode(part) {
    if (part.type === 'chunk') return part.hidden ? '' : `data: ${part.raw ?? JSON.stringify(part.chunk)}\n\n`;
    return part.type === 'done' ? SSE_DONE : errorEvent(part.error);
  },
  failure: errorEvent,
};

export interface WriteOptions {
  /** Aborted when the shutdown grace period ends: a stream still running ends with an error event. */
  stop?: AbortSignal;
  /** The protocol's SSE serialiser (default: OpenAI chat). */
  encoder?: SseEncoder;
}

export async function writeReply(res: ServerResponse, reply: ProviderReply, headers: Readonly<Record<string, string>>, opts: WriteOptions = {}): Promise<void> {
  applyHeaders(res, headers);
  if (reply.kind === 'json') {
    res.statusCode = reply.status;
    res.setHeader('content-type', 'application/json');
    res.end(reply.raw ?? JSON.stringify(reply.body));
    return;
  }
  await writeStream(res, reply, opts.stop, opts.encoder ?? OPENAI_SSE);
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

const SHUTTING_DOWN = { message: 'The gateway is shutting down; the stream was cut before it finished.', type: 'server_error', code: 'shutting_down' };

async function writeStream(res: ServerResponse, reply: StreamReply, stop: AbortSignal | undefined, encoder: SseEncoder): Promise<void> {
  res.statusCode = reply.status;
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('connection', 'keep-alive');
  res.setHeader('x-accel-buffering', 'no');
  res.flushHeaders();
  // At the end of the shutdown grace period the stream ends here, even while the upstream is silent.
  const cut = (): void => {
    if (!res.writableEnded && !res.destroyed) res.end(encoder.failure(SHUTTING_DOWN));
  };
  if (stop?.aborted) cut();
  else stop?.addEventListener('abort', cut, { once: true });
  const iterator = reply.parts[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (res.destroyed || res.writableEnded) break;
      const next = await iterator.next();
      if (res.destroyed || res.writableEnded) break;
      if (next.done) {
        // The source ended without a terminator: report it rather than finishing cleanly.
        res.write(encoder.failure({ message: 'The upstream stream ended unexpectedly.', type: 'upstream_error', code: 'stream_incomplete' }));
        break;
      }
      const part = next.value;
      const text = await encoder.encode(part);
      if (res.destroyed || res.writableEnded) break;
      const ok = text.length === 0 || res.write(text);
      if (part.type !== 'chunk') break;
      if (!ok) {
        if (res.destroyed) break;
        await waitDrain(res);
      }
    }
  } catch (err) {
    if (!res.destroyed && !res.writableEnded) res.write(encoder.failure(asGatewayError(err).toJSON().error));
  } finally {
    stop?.removeEventListener('abort', cut);
    // Closing the iterator runs the observers' end hooks and aborts upstream work when the client left early.
    await iterator.return?.().catch(() => undefined);
    if (!res.writableEnded) res.end();
  }
}
