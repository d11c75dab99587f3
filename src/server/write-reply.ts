/**
 * The HTTP edge's writer: a JSON reply as bytes (the upstream's own when it spoke OpenAI format), a streamed reply as the bytes
 * its protocol's StreamEncoder (src/edges/) makes of each part, with backpressure, and errors in the caller's protocol's envelope. A stream that breaks after its first byte — or that is still running when
 * the shutdown grace period ends — ends with an SSE error event and no [DONE], never a clean-looking finish. The error
 * writer never throws: whatever it cannot send, it gives up by closing the connection. A client that does not take a reply's
 * bytes within the write timeout (its connection's send buffer full: it stopped reading) has its connection closed, so it
 * cannot hold a stream, its upstream call and its place, or a written reply's memory, for ever.
 */
import type { ServerResponse } from 'node:http';
import { asGatewayError, type GatewayError } from '../errors.js';
import { ENVELOPE_FALLBACK, OpenAIStreamEncoder } from '../edges/openai-chat/encode-stream.js';
import type { ErrorEnvelope, ErrorReply, StreamEncoder } from '../edges/types.js';
import type { ProviderReply, StreamReply } from '../providers/types.js';
import { applyHeaders, headerList, writeHead } from './reply-headers.js';

/** OpenAI's error envelope (the default); an error whose fields cannot be serialised still yields a valid envelope. */
export function openAIEnvelope(gerr: GatewayError): ErrorReply {
  let body: string;
  try {
    body = JSON.stringify(gerr.toJSON());
  } catch {
    body = ENVELOPE_FALLBACK;
  }
  return { status: gerr.status, body };
}

/**
 * Writes an error in the caller's protocol's envelope (OpenAI's unless `envelope` says otherwise) and returns the status
 * it answered with. Never throws: what it cannot send, it gives up by closing the connection.
 */
export function writeError(res: ServerResponse, err: unknown, headers: Readonly<Record<string, string>> = {}, envelope: ErrorEnvelope = openAIEnvelope): number {
  let status = 500;
  try {
    const gerr: GatewayError = asGatewayError(err);
    const reply = envelope(gerr, headers['x-request-id']);
    status = reply.status;
    if (res.headersSent) {
      res.end();
      return status;
    }
    applyHeaders(res, headers);
    applyHeaders(res, gerr.headers);
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(reply.body);
  } catch {
    res.destroy();
  }
  return status;
}

export interface WriteOptions {
  /** Aborted when the shutdown grace period ends: a stream still running ends with an error event. */
  stop?: AbortSignal;
  /** Serialises a streamed reply's parts into the caller's protocol (see src/edges/); OpenAI chat chunks by default. */
  encoder?: StreamEncoder;
  /** How long the client may leave written bytes untaken before its connection is closed (server.write_timeout_ms). */
  writeTimeoutMs?: number;
}

const DEFAULT_WRITE_TIMEOUT_MS = 60_000;
/** A JSON reply larger than this leaves in slices of this size, each written once the client took the one before. */
const JSON_SLICE = 1024 * 1024;

export async function writeReply(res: ServerResponse, reply: ProviderReply, headers: Readonly<Record<string, string>>, opts: WriteOptions = {}): Promise<void> {
  const writeTimeoutMs = opts.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
  if (reply.kind === 'json') {
    // Status and headers in one writeHead: a JSON reply up to JSON_SLICE leaves in one write, its headers known in full here.
    const list = headerList(headers);
    list.push('content-type', 'application/json');
    const body = reply.raw ?? JSON.stringify(reply.body);
    if (body.length <= JSON_SLICE) {
      writeHead(res, reply.status, list);
      res.end(body);
      boundFlush(res, writeTimeoutMs);
      return;
    }
    await writeLargeJson(res, reply.status, list, typeof body === 'string' ? Buffer.from(body) : body, writeTimeoutMs);
    return;
  }
  applyHeaders(res, headers);
  await writeStream(res, reply, opts.encoder ?? new OpenAIStreamEncoder('chat'), opts.stop, writeTimeoutMs);
}

/**
 * A large JSON reply in slices with backpressure, as a stream is written: the write timeout then bounds each wait for the
 * client to take the slice before (a slow reader that keeps reading is served; one that stopped is cut off), rather than
 * the whole reply, and the reply is not handed to the socket's buffer all at once.
 */
async function writeLargeJson(res: ServerResponse, status: number, list: string[], body: Buffer, writeTimeoutMs: number): Promise<void> {
  list.push('content-length', String(body.length));
  writeHead(res, status, list);
  for (let at = 0; at < body.length - JSON_SLICE; at += JSON_SLICE) {
    if (res.destroyed) return;
    if (!res.write(body.subarray(at, at + JSON_SLICE))) await waitDrain(res, writeTimeoutMs);
  }
  if (res.destroyed) return;
  res.end(body.subarray(Math.floor((body.length - 1) / JSON_SLICE) * JSON_SLICE));
  boundFlush(res, writeTimeoutMs);
}

/**
 * Closes `res` (destroys the connection) unless `event` or its close comes within `ms`: a client that stopped reading.
 * `then` runs once either happens.
 */
function closeUnless(res: ServerResponse, event: 'drain' | 'finish', ms: number, then?: () => void): void {
  const done = (): void => {
    clearTimeout(timer);
    res.off(event, done);
    res.off('close', done);
    then?.();
  };
  const timer = setTimeout(() => res.destroy(), ms);
  res.on(event, done);
  res.on('close', done);
}

/** Resolves once `res` drains or closes; closes it when it has not drained within `ms`. */
function waitDrain(res: ServerResponse, ms: number): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  return new Promise((resolve) => closeUnless(res, 'drain', ms, resolve));
}

/**
 * After a reply's last write: when bytes of it are still waiting for the client (the socket did not take them all at once),
 * the connection is closed unless they leave within `ms`, so the reply's memory is not held for a client that stopped
 * reading. Nothing is armed for a reply the socket took whole, as almost every reply is.
 */
function boundFlush(res: ServerResponse, ms: number): void {
  if (res.destroyed || res.writableFinished || res.writableLength === 0) return;
  closeUnless(res, 'finish', ms);
}

const SHUTTING_DOWN = { message: 'The gateway is shutting down; the stream was cut before it finished.', type: 'server_error', code: 'shutting_down' };

async function writeStream(res: ServerResponse, reply: StreamReply, encoder: StreamEncoder, stop: AbortSignal | undefined, writeTimeoutMs: number): Promise<void> {
  res.statusCode = reply.status;
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('connection', 'keep-alive');
  res.setHeader('x-accel-buffering', 'no');
  // Small writes are batched: the parts made from one upstream read arrive within one tick, their text is gathered and
  // leaves in one write at the end of that tick (the headers with the first one: no flushHeaders, since a stream starts only
  // once its first part arrived); the last batch goes out with the end of the reply.
  let pending = '';
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const text = pending;
    pending = '';
    if (text !== '' && !res.destroyed && !res.writableEnded) res.write(text);
  };
  const send = (text: string): void => {
    pending += text;
    if (!scheduled) {
      scheduled = true;
      process.nextTick(flush);
    }
  };
  const finish = (text: string): void => {
    const all = pending + text;
    pending = '';
    if (!res.writableEnded && !res.destroyed) {
      res.end(all);
      boundFlush(res, writeTimeoutMs);
    }
  };
  // At the end of the shutdown grace period the stream ends here, even while the upstream is silent.
  const cut = (): void => finish(encoder.fail(SHUTTING_DOWN));
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
        send(encoder.fail({ message: 'The upstream stream ended unexpectedly.', type: 'upstream_error', code: 'stream_incomplete' }));
        break;
      }
      const part = next.value;
      const encoded = encoder.encode(part);
      const text = typeof encoded === 'string' ? encoded : await encoded;
      if (res.destroyed || res.writableEnded) break;
      if (text !== '') send(text);
      if (part.type === 'done' || part.type === 'error') break;
      if (res.writableNeedDrain) await waitDrain(res, writeTimeoutMs);
    }
  } catch (err) {
    if (!res.destroyed && !res.writableEnded) send(encoder.fail(asGatewayError(err).toJSON().error));
  } finally {
    stop?.removeEventListener('abort', cut);
    // Closing the iterator runs the observers' end hooks and aborts upstream work when the client left early.
    await iterator.return?.().catch(() => undefined);
    finish('');
  }
}
