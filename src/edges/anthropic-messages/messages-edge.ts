/**
 * The Anthropic Messages edge: `POST /v1/messages` as a ProtocolEdge (src/edges/types.ts), served by the shared request path
 * like every other protocol (rules read `protocol == "anthropic.messages"`), and `POST /v1/messages/count_tokens`. A request
 * is authenticated with its virtual key (`x-api-key`, or `authorization: Bearer`), parsed into the internal request, and
 * answered as a Messages response or event stream — an Anthropic upstream's own bytes when it answered the caller's request
 * as sent — with every refusal in Anthropic's error envelope and `request-id` beside x-request-id.
 */
import { Router, type Request, type Response } from 'express';
import { GatewayError } from '../../errors.js';
import { estimatePromptTokens } from '../../governance/tokens.js';
import { newContext } from '../../pipeline/build-context.js';
import { ANONYMOUS, type Caller, type RequestContext } from '../../pipeline/context.js';
import type { ProviderReply } from '../../providers/types.js';
import { checkLimits, lowerHeaders, parseJsonBody, type InputLimits } from '../../server/request-body.js';
import { writeError, writeReply } from '../../server/write-reply.js';
import type { AcceptedRequest, ProtocolEdge } from '../types.js';
import { anthropicEnvelope } from './anthropic-errors.js';
import { convertChatToMessage } from './convert-chat-to-message.js';
import { AnthropicStreamEncoder } from './encode-stream.js';
import { parseMessagesRequest } from './parse-messages-request.js';

const PROTOCOL = 'anthropic.messages';
const REQUEST_ID = 'request-id';

export interface MessagesEdgeDeps {
  authenticate(authorization: string | undefined): Promise<Caller>;
  limits(): InputLimits;
  /** The raw body of an express-routed request (the same reading and size limit as the proxy routes). */
  readBody(req: Request, res: Response): Promise<Buffer>;
}

/** The virtual key: Anthropic's `x-api-key` header, else a Bearer token (the SDKs' `authToken`). */
export function authorizationOf(headers: Readonly<Record<string, string>>): string | undefined {
  const key = headers['x-api-key'];
  return key !== undefined && key !== '' ? `Bearer ${key}` : headers.authorization;
}

export const messagesEdge: ProtocolEdge = {
  protocol: PROTOCOL,
  op: 'chat',
  credential: authorizationOf,
  errorEnvelope: anthropicEnvelope,
  requestIdHeader: REQUEST_ID,
  async accept(body: unknown, _caller: Caller, limits: InputLimits): Promise<AcceptedRequest> {
    const parsed = parseMessagesRequest(body, limits.max_messages);
    return {
      body: parsed.body,
      warnings: parsed.warnings,
      native: { protocol: PROTOCOL, body: parsed.native, extras: parsed.extras },
      async present(ctx: RequestContext, reply: ProviderReply) {
        if (reply.kind === 'json' && reply.native?.protocol === PROTOCOL) {
          // An Anthropic upstream answered the caller's own request: its bytes go out unchanged.
          return { reply: { kind: 'json', status: reply.status, body: reply.body, raw: reply.native.raw } };
        }
        if (reply.kind === 'json') {
          ctx.warnings.push(...parsed.translationLosses);
          const message = convertChatToMessage(reply.body, ctx.model, ctx.warnings);
          return { reply: { kind: 'json', status: reply.status, body: message as unknown as Record<string, unknown> } };
        }
        if (reply.native !== PROTOCOL) ctx.warnings.push(...parsed.translationLosses);
        return { reply, encoder: new AnthropicStreamEncoder(ctx.id, ctx.model) };
      },
    };
  },
};

/**
 * POST /v1/messages/count_tokens — the prompt's tokens as the gateway estimates them (src/governance/tokens.ts, the same
 * estimate its token limits reserve), without calling an upstream — and Anthropic's 404 for any other /v1/messages path.
 * Mounted before the JSON parser: it reads its own body.
 */
export function messagesRouter(deps: MessagesEdgeDeps): Router {
  const router = Router();
  router.post('/v1/messages/count_tokens', async (req, res) => {
    const headers = lowerHeaders(req);
    const id = newContext('chat', undefined, headers, ANONYMOUS, new AbortController().signal, performance.now(), PROTOCOL).id;
    const replyHeaders = { 'x-request-id': id, [REQUEST_ID]: id };
    try {
      const limits = deps.limits();
      const body = parseJsonBody(await deps.readBody(req, res), req.headers['content-type'], limits);
      await deps.authenticate(authorizationOf(headers));
      checkLimits(body, limits);
      const parsed = parseMessagesRequest(body, limits.max_messages, { countOnly: true });
      await writeReply(res, { kind: 'json', status: 200, body: { input_tokens: estimatePromptTokens(parsed.body) } }, replyHeaders);
    } catch (err) {
      writeError(res, err, replyHeaders, anthropicEnvelope);
    }
  });
  router.use('/v1/messages', (req, res) => {
    const path = req.originalUrl.split('?')[0].slice(0, 200);
    writeError(res, new GatewayError({ status: 404, message: `Unknown route: ${req.method} ${path}`, type: 'invalid_request_error', code: 'unknown_route', failure: 'caller' }), {}, anthropicEnvelope);
  });
  return router;
}
