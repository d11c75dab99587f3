/**
 * Azure OpenAI: the OpenAI protocol on deployment URLs —
 * `{base_url}/openai/deployments/{deployment}/chat/completions?api-version=...` with an `api-key` header.
 */
import { createOpenAICompatibleAdapter, OPENAI_PATHS } from '../openai/openai-compatible-adapter.js';
import type { AdapterOptions } from '../adapters.js';
import type { ProviderSettings } from '../settings.js';
import type { Operation, ProviderAdapter } from '../types.js';

export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

export function azureUrl(baseUrl: string, deployment: string, op: Operation, apiVersion: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}/openai/deployments/${encodeURIComponent(deployment)}/${OPENAI_PATHS[op]}?api-version=${encodeURIComponent(apiVersion)}`;
}

export function createAzureOpenAIAdapter(settings: ProviderSettings, opts: AdapterOptions = {}): ProviderAdapter {
  const apiVersion = settings.api_version ?? DEFAULT_AZURE_API_VERSION;
  const deployments = settings.deployments ?? {};
  // URLs are built once per (operation, model) and reused.
  const cache = new Map<string, string>();
  const url = (op: Operation, model: string): string => {
    const key = `${op}\u0000${model}`;
    let u = cache.get(key);
    if (u === undefined) {
      u = azureUrl(settings.base_url, Object.hasOwn(deployments, model) ? deployments[model] : model, op, apiVersion);
      if (cache.size < 1024) cache.set(key, u);
    }
    return u;
  };
  return createOpenAICompatibleAdapter({
    kind: 'azure-openai',
    name: settings.name,
    timeoutMs: settings.timeout_ms,
    headers: settings.headers,
    streamUsage: settings.stream_usage,
    nonRetryable: opts.nonRetryable,
    redact: opts.redact,
    url,
    authHeaderNames: ['api-key', 'authorization'],
    auth: (apiKey) => ({ 'api-key': apiKey }),
  });
}
