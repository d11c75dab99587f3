/**
 * The Anthropic Messages edge: `POST /v1/messages` and `POST /v1/messages/count_tokens`. A request is authenticated with its
 * virtual key (`x-api-key`, or `authorization: Bearer`), parsed into the internal request and run through the same pipeline
 * as every other protocol (rules read `protocol == "anthropic.messages"`); the reply is written back as a Messages response
 * or event stream, and every refusal in Anthropic's error envelope. Never rejects.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asGatewayError } from '../../errors.js';
import { estimatePromptTokens } from '../../governance/tokens.js';
import { buildContext, newContext } from '../../pipeline/build-context.js';
import { ANONYMOUS, type Caller, type RequestContext } from '../../pipeline/context.js';
import type { GatewayHandle } from '../../server/app.js';
import { applyHeaders, replyHeadersOf } from '../../server/reply-headers.js';
import { writeReply } from '../../server/write-reply.js';
import { checkLimits, lowerHeaders, parseJsonBody } from '../../server/request-body.js';
import { anthropicError } from './anthropic-errors.js';
import { convertChatToMessage } from './convert-chat-to-message.js';
import { parseMessagesRequest } from './parse-messages-request.js';
import { AnthropicStreamEncoder } from './encode-stream.js';

const PROTOCOL = 'anthropic.messages';

/** The virtual key: Anthropic's `x-api-key` header, else a Bearer token (the SDKs' `authToken`). */
export function authorizationOf(headers: Readonly<Record<string, string>>): string | undefined {
  const key = headers['x-api-key'];
  return key !== undefined && key !== '' ? `Bearer ${key}` : headers.authorization;
}

/** Writes an error in Anthropic's envelope; never throws (what it cannot send, it gives up by closing the connection). */
export function writeAnthropicError(res: ServerResponse, err: unknown, headers: Readonly<Record<string, string>> = {}): void {
  try {
    if (res.headersSent) {
      res.end();
      return;
    }
    const gerr = asGatewayError(err);
    const reply = anthropicError(gerr, headers['x-request-id']);
    applyHeaders(res, headers);
    applyHeaders(res, gerr.headers);
    res.statusCode = reply.status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(reply.body));
  } catch {
    res.destroy();
  }
}

function writeJson(res: ServerResponse, status: number, body: string | Buffer, headers: Readonly<Record<string, string>>): void {
  applyHeaders(res, headers);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(body);
}

/** The reply headers of a request, with Anthropic's `request-id` beside x-request-id. */
function headersOf(ctx: RequestContext): Record<string, string> {
  return { ...replyHeadersOf(ctx), 'x-request-id': ctx.id, 'request-id': ctx.id };
}

/** POST /v1/messages. */
export async function serveMessages(gw: GatewayHandle, req: IncomingMessage, res: ServerResponse, rawBody: Promise<Buffer>): Promise<void> {
  const startedAt = performance.now();
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const cut = (): void => {
    if (res.headersSent) abort.abort();
  };
  gw.stopping?.addEventListener('abort', cut, { once: true });
  const headers = lowerHeaders(req);
  let body: unknown;
  let caller: Caller = ANONYMOUS;
  let ctx: RequestContext | undefined;
  try {
    body = parseJsonBody(await rawBody, req.headers['content-type']);
    caller = await gw.authenticate(authorizationOf(headers));
    const limits = gw.limits();
    checkLimits(body, limits);
    const parsed = parseMessagesRequest(body, limits.max_messages);
    const built = buildContext('chat', parsed.body, headers, caller, abort.signal, { maxMessages: limits.max_messages, startedAt, protocol: PROTOCOL });
    ctx = { ...built, native: { protocol: PROTOCOL, body: parsed.native, extras: parsed.extras } };
    ctx.warnings.push(...parsed.warnings);
    const reply = await gw.handle(ctx);
    if (reply.kind === 'json' && reply.native?.protocol === PROTOCOL) {
      // An Anthropic upstream answered the caller's own request: its bytes go out unchanged.
      writeJson(res, reply.status, reply.native.raw, headersOf(ctx));
    } else if (reply.kind === 'json') {
      ctx.warnings.push(...parsed.translationLosses);
      const message = convertChatToMessage(reply.body, ctx.model, ctx.warnings);
      writeJson(res, reply.status, JSON.stringify(message), headersOf(ctx));
    } else {
      if (reply.native !== PROTOCOL) ctx.warnings.push(...parsed.translationLosses);
      await writeReply(res, reply, headersOf(ctx), { stop: gw.stopping, encoder: new AnthropicStreamEncoder(ctx.id, ctx.model) });
    }
    gw.finished({ ctx, status: reply.status, durationMs: performance.now() - ctx.startedAt });
  } catch (err) {
    const gerr = asGatewayError(err);
    if (gerr.failure === 'gateway' && gerr.code === 'internal_error') gw.unexpected(gerr.cause ?? gerr, 'request');
    ctx ??= newContext('chat', body, headers, caller, abort.signal, startedAt, PROTOCOL);
    writeAnthropicError(res, gerr, headersOf(ctx));
    gw.finished({ ctx, status: anthropicError(gerr).status, error: gerr, durationMs: performance.now() - ctx.startedAt });
  } finally {
    gw.stopping?.removeEventListener('abort', cut);
  }
}

/**
 * POST /v1/messages/count_tokens: the prompt's tokens as the gateway estimates them (src/governance/tokens.ts — the same
 * estimate its token limits reserve), without calling an upstream.
 */
export async function serveCountTokens(gw: GatewayHandle, req: IncomingMessage, res: ServerResponse, rawBody: Promise<Buffer>): Promise<void> {
  const headers = lowerHeaders(req);
  const id = newContext('chat', undefined, headers, ANONYMOUS, new AbortController().signal, performance.now(), PROTOCOL).id;
  const replyHeaders = { 'x-request-id': id, 'request-id': id };
  try {
    const body = parseJsonBody(await rawBody, req.headers['content-type']);
    await gw.authenticate(authorizationOf(headers));
    const limits = gw.limits();
    checkLimits(body, limits);
    const parsed = parseMessagesRequest(body, limits.max_messages, { countOnly: true });
    writeJson(res, 200, JSON.stringify({ input_tokens: estimatePromptTokens(parsed.body) }), replyHeaders);
  } catch (err) {
    writeAnthropicError(res, err, replyHeaders);
  }
}
