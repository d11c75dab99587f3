/**
 * Builds the adapter for one configured provider.
 */
import { createAnthropicAdapter } from './anthropic/anthropic-adapter.js';
import { createAzureOpenAIAdapter } from './azure/azure-openai-adapter.js';
import { createOpenAIAdapter } from './openai/openai-adapter.js';
import type { ProviderSettings } from './settings.js';
import type { ProviderAdapter } from './types.js';

export type { ProviderSettings } from './settings.js';

export interface AdapterOptions {
  /** Upstream statuses that must never be retried elsewhere (see failure.ts DEFAULT_NON_RETRYABLE). */
  nonRetryable: ReadonlySet<number>;
}

export function createAdapter(settings: ProviderSettings, opts: AdapterOptions): ProviderAdapter {
  switch (settings.kind) {
    case 'openai':
      return createOpenAIAdapter(settings, opts.nonRetryable);
    case 'azure-openai':
      return createAzureOpenAIAdapter(settings, opts.nonRetryable);
    case 'anthropic':
      return createAnthropicAdapter(settings, opts.nonRetryable);
  }
}
