/**
 * The OpenAI Responses edge: POST /v1/responses enters the pipeline as a chat request (rules see protocol
 * "openai.responses") with the caller's own body kept beside it, and its reply leaves as a Response object or the Responses
 * event stream — a Responses upstream's own bytes when it was sent that body (pass-through), else made from the internal
 * reply. GET and DELETE /v1/responses/{id} read and remove stored responses. A stored response continues a conversation
 * through previous_response_id — only for the virtual key that created it; the gateway, never the upstream, keeps the state.
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
import { parseItems, parseResponsesRequest } from './parse-responses-request.js';
import type { ResponseObject } from './responses-api.js';
import type { ResponseStore } from './response-store.js';
import { ResponsesPassThroughEncoder } from './responses-pass-through.js';
import { ResponsesStreamEncoder } from './responses-stream.js';

export interface ResponsesEdgeDeps {
  store: ResponseStore;
  logger: Logger;
  authenticate(authorization: string | undefined): Promise<Caller>;
}

/** The tenant a stored response belongs to: the virtual key (anonymous callers share the empty one). */
const tenantOf = (caller: Caller): string => caller.virtualKeyId;

const PROTOCOL = 'openai.responses';

type Obj = Record<string, unknown>;

/** A JSON object from bytes (an upstream reply already read as one), or undefined. */
function parseObject(raw: Buffer): Obj | undefined {
  try {
    const v: unknown = JSON.parse(raw.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
  } catch {
    return undefined;
  }
}

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

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A stored item that can be sent again to an upstream that stores nothing: every one except reasoning items without their
 * encrypted content (an upstream can resolve those only from its own store, and the gateway always sends `store: false`).
 */
const resendable = (item: unknown): boolean => !(isObj(item) && item.type === 'reasoning' && typeof item.encrypted_content !== 'string');

/**
 * The caller's body as a Responses upstream receives it: the conversation of previous_response_id (the gateway's store,
 * read for this caller's key only) put before the input, and `store: false` — the state stays in the gateway. The adapter
 * sets the routed model and the stream flag.
 */
function nativeBody(body: Obj, stored: readonly unknown[], rawInput: readonly unknown[]): Obj {
  const { previous_response_id: _previous, ...rest } = body;
  const out: Obj = { ...rest, store: false };
  if (stored.length > 0) out.input = [...stored.filter(resendable), ...rawInput];
  return out;
}

export function createResponsesEdge(deps: ResponsesEdgeDeps): { edge: ProtocolEdge; router: Router } {
  const { store, logger } = deps;

  /** Keeps a finished response and its conversation; a failure to store is reported, never fatal to the reply. */
  const keep = async (ctx: RequestContext, response: { readonly id: string }, conversation: unknown[]): Promise<void> => {
    try {
      if (!(await store.put(tenantOf(ctx.caller), { response, conversation }))) {
        ctx.warnings.push("the response was not stored: it exceeds responses.max_record_bytes (or the memory store's max_bytes)");
      }
    } catch (err) {
      ctx.warnings.push('the response was not stored: the response store is unavailable');
      logger.warn({ request_id: ctx.id, err: err instanceof Error ? err.message : String(err) }, 'responses: storing a response failed');
    }
  };

  const edge: ProtocolEdge = {
    protocol: PROTOCOL,
    op: 'chat',
    async accept(body: unknown, caller: Caller, limits: InputLimits): Promise<AcceptedRequest> {
      const { request, rawInput, translation } = parseResponsesRequest(body, limits.max_messages);
      let stored: readonly unknown[] = [];
      if (request.previous_response_id !== undefined) {
        const previous = await read(store, tenantOf(caller), request.previous_response_id);
        if (previous === undefined) {
          throw invalidRequest(`Previous response with id '${request.previous_response_id.slice(0, 80)}' not found.`, 'previous_response_id', 'previous_response_not_found');
        }
        stored = previous.conversation;
      }
      const history = parseItems(stored, () => 'previous_response_id', translation, 'previous_response_id');
      const sent = body as Obj;
      const extras: Obj = {};
      for (const k of translation.fields) extras[k] = sent[k];
      const start = startResponse(request, newId('resp'), Math.floor(Date.now() / 1000));

      /** Keeps a Responses upstream's own Response (passed through), under its id. */
      const keepUpstream = async (ctx: RequestContext, response: Obj | undefined): Promise<void> => {
        if (!request.store) return;
        if (response === undefined || typeof response.id !== 'string' || !RESPONSE_ID.test(response.id)) {
          ctx.warnings.push("the response was not stored: the upstream's response has no usable id");
          return;
        }
        const output = Array.isArray(response.output) ? (response.output as unknown[]) : [];
        await keep(ctx, response as Obj & { id: string }, [...stored, ...rawInput, ...output]);
      };

      const internal = toChatRequest(request, history);
      if ((internal.messages as unknown[]).length === 0) {
        // Nothing the internal request can carry: a translated route would have nothing to send.
        if (translation.untranslatable === undefined) throw invalidRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
        // Only a Responses upstream can answer it (a translated route refuses it first); the stages see an empty turn.
        internal.messages = [{ role: 'user', content: '' }];
      }
      return {
        body: internal,
        warnings: [],
        native: {
          protocol: PROTOCOL, body: nativeBody(sent, stored, rawInput), extras,
          ...(translation.untranslatable !== undefined ? { untranslatable: translation.untranslatable } : {}),
        },
        async present(ctx: RequestContext, reply: ProviderReply) {
          // A Responses upstream answered the caller's own request: its bytes go out unchanged.
          if (reply.kind === 'json' && reply.native?.protocol === PROTOCOL) {
            if (request.store) await keepUpstream(ctx, parseObject(reply.native.raw));
            return { reply: { kind: 'json', status: reply.status, body: reply.body, raw: reply.native.raw, ...(reply.usage ? { usage: reply.usage } : {}) } };
          }
          if (reply.kind === 'stream' && reply.native === PROTOCOL) {
            return { reply, encoder: new ResponsesPassThroughEncoder(request.store ? (final) => keepUpstream(ctx, final) : undefined) };
          }
          ctx.warnings.push(...translation.losses);
          const keepOwn = (final: ResponseObject): Promise<void> =>
            (request.store ? keep(ctx, final, [...stored, ...rawInput, ...asConversation(final.output)]) : Promise.resolve());
          if (reply.kind === 'stream') return { reply, encoder: new ResponsesStreamEncoder(start, keepOwn) };
          const response = fromChatCompletion(start, reply.body);
          await keepOwn(response);
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
