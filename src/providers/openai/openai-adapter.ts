/**
 * OpenAI and any server speaking its protocol: `{base_url}/chat/completions` with `Authorization: Bearer <key>` (or, with
 * `responses: true`, `{base_url}/responses`: see ../openai-responses/).
 */
import type { AdapterOptions } from '../adapters.js';
import type { ProviderSettings } from '../settings.js';
import type { ProviderAdapter } from '../types.js';
import { createOpenAIResponsesAdapter } from '../openai-responses/responses-adapter.js';
import { createOpenAICompatibleAdapter, OPENAI_PATHS } from './openai-compatible-adapter.js';

export function createOpenAIAdapter(settings: ProviderSettings, opts: AdapterOptions = {}): ProviderAdapter {
  if (settings.responses === true) return createOpenAIResponsesAdapter(settings, opts);
  const base = settings.base_url.replace(/\/+$/, '');
  const urls = { chat: `${base}/${OPENAI_PATHS.chat}`, completion: `${base}/${OPENAI_PATHS.completion}`, embedding: `${base}/${OPENAI_PATHS.embedding}` };
  return createOpenAICompatibleAdapter({
    kind: 'openai',
    name: settings.name,
    timeoutMs: settings.timeout_ms,
    headers: settings.headers,
    streamUsage: settings.stream_usage,
    nonRetryable: opts.nonRetryable,
    redact: opts.redact,
    url: (op) => urls[op],
    authHeaderNames: ['authorization'],
    auth: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
  });
}
