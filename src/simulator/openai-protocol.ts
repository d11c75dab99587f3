/**
 * The OpenAI protocol: `/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`, `/v1/responses`, `GET /v1/models`, Bearer keys and
 * OpenAI's error envelope.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { simulateChat, type SimCall } from './openai-chat.js';
import { simulateCompletion, simulateEmbedding } from './openai-completions.js';
import { simulateResponses } from './openai-responses.js';
import type { ProtocolHandler, SimReply } from './types.js';

type Obj = Record<string, unknown>;
type Simulate = (call: SimCall, body: Obj) => SimReply | { status: number; message: string; param: string | null };

export const OPENAI_ROUTES: Readonly<Record<string, Simulate>> = Object.freeze({
  'chat/completions': simulateChat,
  completions: simulateCompletion,
  embeddings: simulateEmbedding,
  responses: simulateResponses,
});

const TYPE_BY_STATUS: Record<number, [string, string | null]> = {
  400: ['invalid_request_error', null],
  401: ['invalid_request_error', 'invalid_api_key'],
  403: ['invalid_request_error', 'unsupported_country_region_territory'],
  404: ['invalid_request_error', 'model_not_found'],
  429: ['requests', 'rate_limit_exceeded'],
};

export function openaiErrorBody(status: number, message: string, param: string | null = null): Obj {
  const [type, code] = TYPE_BY_STATUS[status] ?? (status >= 500 ? ['server_error', null] : ['invalid_request_error', null]);
  return { error: { message, type, param, code } };
}

export const DEFAULT_OPENAI_MODELS = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'];

/** Runs one simulated operation, turning validation failures into the protocol's 400. */
export function runOperation(
  simulate: Simulate, call: SimCall, body: Obj, errorBody: (status: number, message: string, param: string | null) => unknown,
): SimReply {
  const out = simulate(call, body);
  return 'kind' in out ? out : { kind: 'json', status: out.status, body: errorBody(out.status, out.message, out.param) };
}

export function modelList(models: readonly string[], owner: string): Obj {
  return { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: owner })) };
}

export function createOpenAIHandler(name: string, models: readonly string[] | undefined): ProtocolHandler {
  let seq = 0;
  const served = models === undefined ? undefined : new Set(models);
  return {
    basePath: '/v1',
    keyOf(headers: IncomingHttpHeaders): string | undefined {
      const auth = headers.authorization;
      return typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    },
    errorBody: (status, message) => openaiErrorBody(status, message),
    handle(method, url, body): SimReply {
      const route = url.pathname.startsWith('/v1/') ? url.pathname.slice(4) : '';
      if (method === 'GET' && route === 'models') return { kind: 'json', status: 200, body: modelList(models ?? DEFAULT_OPENAI_MODELS, name) };
      if (method === 'GET' && route.startsWith('models/')) {
        const id = decodeURIComponent(route.slice(7));
        if (served !== undefined && !served.has(id)) return { kind: 'json', status: 404, body: openaiErrorBody(404, `The model '${id}' does not exist`, 'model') };
        return { kind: 'json', status: 200, body: { id, object: 'model', created: 1_700_000_000, owned_by: name } };
      }
      const simulate = method === 'POST' ? OPENAI_ROUTES[route] : undefined;
      if (simulate === undefined) return { kind: 'json', status: 404, body: openaiErrorBody(404, `Unknown request URL: ${method} ${url.pathname}`) };
      if (body === undefined) return { kind: 'json', status: 400, body: openaiErrorBody(400, 'The request body must be a JSON object.') };
      const model = body.model;
      if (typeof model !== 'string' || model === '') {
        return { kind: 'json', status: 400, body: openaiErrorBody(400, 'You must provide a model parameter.', 'model') };
      }
      if (served !== undefined && !served.has(model)) {
        return { kind: 'json', status: 404, body: openaiErrorBody(404, `The model '${model}' does not exist or you do not have access to it.`, 'model') };
      }
      return runOperation(simulate, { name, seq: ++seq, model }, body, openaiErrorBody);
    },
  };
}
