/**
 * Embedded defaults: the config used when no file is given. OPENAI_API_KEY and/or ANTHROPIC_API_KEY each add that provider
 * (OPENAI_BASE_URL / ANTHROPIC_BASE_URL point it at another endpoint), and the `auto` alias answers with the first of them,
 * falling back to the other. Without either the gateway starts with no providers and every model request is refused with a
 * 503 that names these variables.
 */
import { validateConfig } from './load.js';
import type { Config } from './schema.js';

/** The model `auto` picks on each provider: a fast, inexpensive one. */
export const AUTO_MODELS = { openai: 'gpt-4o-mini', anthropic: 'claude-haiku-4-5' } as const;

/** The Anthropic SDK's ANTHROPIC_BASE_URL is the host without `/v1`; a trailing `/v1` is accepted too. */
const anthropicBase = (url: string): string => `${url.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1`;

export function embeddedDefaults(env: NodeJS.ProcessEnv = process.env): Config {
  // Embedded defaults are for local development: no virtual keys exist yet, so anonymous use is allowed.
  const providers: Record<string, unknown> = {};
  if (env.OPENAI_API_KEY) {
    providers.openai = {
      kind: 'openai',
      base_url: env.OPENAI_BASE_URL || 'https://api.openai.com/v1',
      keys: [{ id: 'env', value: env.OPENAI_API_KEY }],
      models: ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'gpt-4.1', 'o4-mini', 'text-embedding-3-small', 'text-embedding-3-large'],
    };
  }
  if (env.ANTHROPIC_API_KEY) {
    providers.anthropic = {
      kind: 'anthropic',
      base_url: anthropicBase(env.ANTHROPIC_BASE_URL || 'https://api.anthropic.com'),
      keys: [{ id: 'env', value: env.ANTHROPIC_API_KEY }],
      models: ['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-5'],
    };
  }
  const autoTargets = (Object.keys(providers) as Array<keyof typeof AUTO_MODELS>).map((p) => `${p}/${AUTO_MODELS[p]}`);
  const raw: Record<string, unknown> = {
    governance: { allow_anonymous: true },
    providers,
    aliases: autoTargets.length > 0 ? { auto: { targets: autoTargets.slice(0, 1), fallbacks: autoTargets.slice(1) } } : {},
  };
  const res = validateConfig(raw);
  if (!res.ok) throw new Error(`embedded defaults are invalid: ${res.errors.join('; ')}`);
  return res.config;
}
