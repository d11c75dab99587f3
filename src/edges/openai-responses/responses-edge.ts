/**
 * The OpenAI Responses edge: POST /v1/responses enters the pipeline as a chat request (rules see protocol
 * "openai.responses") and its reply leaves as a Response object or the Responses event stream; GET and DELETE
 * /v1/responses/{id} read and remove stored responses. A stored response continues a conversation through
 * previous_response_id — only for the virtual key that created it.
 */
import { Router } from 'express';
import { GatewayError, invalidRequest } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Caller, RequestContext } from '../../pipeline/context.js';
import type { ProviderReply } from '../../providers/types.js';
import type { AcceptedRequest, ProtocolEdge } from '../types.js';
import type { InputLimits } from '../../server/request-body.js';
import { asConversation, fromChatCompletion, newId, RESPONSE_ID, startResponse } from './build-response.js';
import { toChatRequest } from './convert-to-chat-request.js';
import { parseResponsesRequest } from './parse-responses-request.js';
import type { ConversationItem, ResponseObject, ResponsesRequest } from './responses-api.js';
import type { ResponseStore } from './response-store.js';
import { ResponsesStreamEncoder } from './responses-stream.js';

export interface ResponsesEdgeDeps {
  store: ResponseStore;
  logger: Logger;
  authenticate(authorization: string | undefined): Promise<Caller>;
}

/** The tenant a stored response belongs to: the virtual key (anonymous callers share the empty one). */
const tenantOf = (caller: Caller): string => caller.virtualKeyId;

const storeUnavailable = (cause: unknown): GatewayError =>
  new GatewayError({
    status: 503, message: 'The response store is unavailable; try again shortly.', type: 'server_error', code: 'response_store_unavailable',
    failure: 'gateway', cause,
  });

const notFound = (id: string): GatewayError =>
  new GatewayError({ status: 404, message: `Response with id '${id.slice(0, 80)}' not found.`, type: 'invalid_request_error', param: 'response_id', code: 'not_found', failure: 'caller' });

async function read(store: ResponseStore, tenant: string, id: string) {
  if (!RESPONSE_ID.test(id)) return undefined;
  try {
    return await store.get(tenant, id);
  } catch (err) {
    throw storeUnavailable(err);
  }
}

export function createResponsesEdge(deps: ResponsesEdgeDeps): { edge: ProtocolEdge; router: Router } {
  const { store, logger } = deps;

  /** Keeps a finished response and its conversation; a failure to store is reported, never fatal to the reply. */
  const keep = async (ctx: RequestContext, req: ResponsesRequest, history: readonly ConversationItem[], response: ResponseObject): Promise<void> => {
    if (!req.store) return;
    const conversation = [...history, ...req.input, ...asConversation(response.output)];
    try {
      if (!(await store.put(tenantOf(ctx.caller), { response, conversation }))) {
        ctx.warnings.push('the response was not stored: it exceeds responses.max_record_bytes');
      }
    } catch (err) {
      ctx.warnings.push('the response was not stored: the response store is unavailable');
      logger.warn({ request_id: ctx.id, err: err instanceof Error ? err.message : String(err) }, 'responses: storing a response failed');
    }
  };

  const edge: ProtocolEdge = {
    protocol: 'openai.responses',
    op: 'chat',
    async accept(body: unknown, caller: Caller, limits: InputLimits): Promise<AcceptedRequest> {
      const { request, warnings } = parseResponsesRequest(body, limits.max_messages);
      let history: readonly ConversationItem[] = [];
      if (request.previous_response_id !== undefined) {
        const previous = await read(store, tenantOf(caller), request.previous_response_id);
        if (previous === undefined) {
          throw invalidRequest(`Previous response with id '${request.previous_response_id.slice(0, 80)}' not found.`, 'previous_response_id', 'previous_response_not_found');
        }
        history = previous.conversation;
      }
      const start = startResponse(request, newId('resp'), Math.floor(Date.now() / 1000));
      return {
        body: toChatRequest(request, history),
        warnings,
        async present(ctx: RequestContext, reply: ProviderReply) {
          if (reply.kind === 'stream') {
            return { reply, encoder: new ResponsesStreamEncoder(start, (final) => keep(ctx, request, history, final)) };
          }
          const response = fromChatCompletion(start, reply.body);
          await keep(ctx, request, history, response);
          return { reply: { kind: 'json', status: reply.status, body: response as unknown as Record<string, unknown>, ...(reply.usage ? { usage: reply.usage } : {}) } };
        },
      };
    },
  };

  const router = Router();
  router.get('/v1/responses/:id', async (req, res) => {
    const caller = await deps.authenticate(req.headers.authorization);
    const record = await read(store, tenantOf(caller), req.params.id);
    if (record === undefined) throw notFound(req.params.id);
    res.json(record.response);
  });
  router.delete('/v1/responses/:id', async (req, res) => {
    const caller = await deps.authenticate(req.headers.authorization);
    let deleted = false;
    try {
      deleted = RESPONSE_ID.test(req.params.id) && (await store.delete(tenantOf(caller), req.params.id));
    } catch (err) {
      throw storeUnavailable(err);
    }
    if (!deleted) throw notFound(req.params.id);
    res.json({ id: req.params.id, object: 'response', deleted: true });
  });
  return { edge, router };
}
