/**
 * The Azure OpenAI protocol: `/openai/deployments/{deployment}/{chat/completions|completions|embeddings}?api-version=...`
 * with an `api-key` header (400 without api-version), Azure's error shape, and the prompt_filter_results chunk that opens
 * Azure streams.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { modelList, OPENAI_ROUTES, runOperation } from './openai-protocol.js';
import type { ProtocolHandler, SimReply } from './types.js';

const CODE_BY_STATUS: Record<number, string> = { 400: 'BadRequest', 401: '401', 404: 'DeploymentNotFound', 429: '429', 500: 'InternalServerError' };

export function azureErrorBody(status: number, message: string, param: string | null = null): Record<string, unknown> {
  return { error: { code: CODE_BY_STATUS[status] ?? String(status), message, ...(param === null ? {} : { param }) } };
}

export const DEFAULT_AZURE_DEPLOYMENTS = ['gpt-4o-mini'];

export function createAzureHandler(name: string, deployments: readonly string[] | undefined): ProtocolHandler {
  let seq = 0;
  const served = deployments === undefined ? undefined : new Set(deployments);
  return {
    basePath: '',
    keyOf(headers: IncomingHttpHeaders): string | undefined {
      const key = headers['api-key'];
      return typeof key === 'string' ? key : undefined;
    },
    errorBody: (status, message) => azureErrorBody(status, message),
    handle(method, url, body): SimReply {
      if (!url.searchParams.get('api-version')) {
        return { kind: 'json', status: 400, body: azureErrorBody(400, 'Missing API version. Please provide the api-version query parameter.') };
      }
      if (method === 'GET' && url.pathname === '/openai/models') {
        return { kind: 'json', status: 200, body: modelList(deployments ?? DEFAULT_AZURE_DEPLOYMENTS, name) };
      }
      const m = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/.exec(url.pathname);
      if (method !== 'POST' || m === null) return { kind: 'json', status: 404, body: azureErrorBody(404, 'Resource not found') };
      const deployment = decodeURIComponent(m[1]);
      if (served !== undefined && !served.has(deployment)) {
        return {
          kind: 'json', status: 404,
          body: azureErrorBody(404, 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.'),
        };
      }
      if (body === undefined) return { kind: 'json', status: 400, body: azureErrorBody(400, 'The request body must be a JSON object.') };
      const model = typeof body.model === 'string' && body.model !== '' ? body.model : deployment;
      return runOperation(OPENAI_ROUTES[m[2]], { name, seq: ++seq, model, azure: true }, body, azureErrorBody);
    },
  };
}
