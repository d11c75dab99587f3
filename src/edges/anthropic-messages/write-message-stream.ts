/**
 * Writes a streamed reply as Anthropic's event stream, with backpressure. The pipeline's stream parts are read for their
 * facts (text, reasoning, tool calls, finish reason, usage) and encoded by MessageEventEncoder; a stream that breaks — an
 * error part, a source that ends without its terminator, the shutdown grace period ending — ends with an `error` event,
 * never a clean-looking message_stop.
 */
import type { ServerResponse } from 'node:http';
import { asGatewayError } from '../../errors.js';
import type { RequestContext } from '../../pipeline/context.js';
import type { Chunk, StreamReply } from '../../providers/types.js';
import { applyHeaders } from '../../server/reply-headers.js';
import { anthropicErrorEvent } from './anthropic-errors.js';
import { messageId, stopReasonOf, usageOf } from './convert-chat-to-message.js';
import { MessageEventEncoder } from './encode-message-events.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One internal chunk → the events it adds. */
function encodeChunk(enc: MessageEventEncoder, chunk: Chunk, hidden: boolean): string {
  if (isObj(chunk.usage)) enc.setUsage(usageOf(chunk.usage));
  if (hidden) return '';
  let out = enc.start(typeof chunk.id === 'string' ? messageId(chunk.id) : undefined, typeof chunk.model === 'string' ? chunk.model : undefined);
  for (const choice of chunk.choices ?? []) {
    if ((choice.index ?? 0) !== 0) continue;
    const delta = isObj(choice.delta) ? choice.delta : {};
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === 'string') out += enc.thinking(reasoning);
    if (typeof delta.content === 'string') out += enc.text(delta.content);
    if (Array.isArray(delta.tool_calls)) {
      for (const raw of delta.tool_calls) {
        const call = isObj(raw) ? raw : {};
        const fn = isObj(call.function) ? call.function : {};
        const key = typeof call.index === 'number' ? call.index : 0;
        if (typeof call.id === 'string' && call.id !== '') out += enc.toolStart(key, call.id, typeof fn.name === 'string' ? fn.name : '');
        if (typeof fn.arguments === 'string') out += enc.toolInput(key, fn.arguments);
      }
    }
    enc.stop(stopReasonOf(choice.finish_reason));
  }
  return out;
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

export async function writeMessageStream(
  res: ServerResponse, reply: StreamReply, ctx: RequestContext, headers: Readonly<Record<string, string>>, stop: AbortSignal | undefined,
): Promise<void> {
  applyHeaders(res, headers);
  res.statusCode = reply.status;
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('connection', 'keep-alive');
  res.setHeader('x-accel-buffering', 'no');
  res.flushHeaders();
  const enc = new MessageEventEncoder(messageId(ctx.id), ctx.model);
  const cut = (): void => {
    const e = anthropicErrorEvent({ message: 'The gateway is shutting down; the stream was cut before it finished.', type: 'server_error', code: 'shutting_down' });
    if (!res.writableEnded && !res.destroyed) res.end(enc.error(e.error.type, e.error.message));
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
        res.write(enc.error('api_error', 'The upstream stream ended unexpectedly.'));
        break;
      }
      const part = next.value;
      if (part.type === 'done') {
        res.write(enc.finish());
        break;
      }
      if (part.type === 'error') {
        const e = anthropicErrorEvent(part.error);
        res.write(enc.error(e.error.type, e.error.message));
        break;
      }
      const text = encodeChunk(enc, part.chunk, part.hidden === true);
      if (text !== '' && !res.write(text)) {
        if (res.destroyed) break;
        await waitDrain(res);
      }
    }
  } catch (err) {
    const e = anthropicErrorEvent(asGatewayError(err).toJSON().error);
    if (!res.destroyed && !res.writableEnded) res.write(enc.error(e.error.type, e.error.message));
  } finally {
    stop?.removeEventListener('abort', cut);
    await iterator.return?.().catch(() => undefined);
    if (!res.writableEnded) res.end();
  }
}
