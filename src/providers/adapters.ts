/**
 * Builds the adapter for one configured provider.
 */
import { createAnthropicAdapter } from './anthropic/anthropic-adapter.js';
import { createAzureOpenAIAdapter } from './azure/azure-openai-adapter.js';
import { createOpenAIAdapter } from './openai/openai-adapter.js';
import type { Redact } from './redact.js';
import type { ProviderSettings } from './settings.js';
import type { ProviderAdapter } from './types.js';

export type { ProviderSettings } from './settings.js';

export interface AdapterOptions {
  /** Upstream statuses that end a request as the caller's error (default: failure.ts DEFAULT_NON_RETRYABLE). */
  nonRetryable?: ReadonlySet<number>;
  /** Sanitises upstream text before it reaches a client or a log (default: credential shapes only). */
  redact?: Redact;
}

export function createAdapter(settings: ProviderSettings, opts: AdapterOptions = {}): ProviderAdapter {
  switch (settings.kind) {
    case 'openai':
      return createOpenAIAdapter(settings, opts);
    case 'azure-openai':
      return createAzureOpenAIAdapter(settings, opts);
    case 'anthropic':
      return createAnthropicAdapter(settings, opts);
  }
}
