/**
 * Embedded defaults: the config used when no file is given. With OPENAI_API_KEY set, OpenAI is the one provider; without it
 * the gateway starts with no providers and says how to add one (or run the demo).
 */
import { validateConfig } from './load.js';
import type { Config } from './schema.js';

export function embeddedDefaults(env: NodeJS.ProcessEnv = process.env): Config {
  // Embedded defaults are for local development: no virtual keys exist yet, so anonymous use is allowed.
  const raw: Record<string, unknown> = { governance: { allow_anonymous: true } };
  if (env.OPENAI_API_KEY) {
    raw.providers = {
      openai: {
        kind: 'openai',
        base_url: env.OPENAI_BASE_URL || 'https://api.openai.com/v1',
        keys: [{ id: 'env', value: env.OPENAI_API_KEY }],
        models: ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'gpt-4.1', 'o4-mini', 'text-embedding-3-small', 'text-embedding-3-large'],
      },
    };
  }
  const res = validateConfig(raw);
  if (!res.ok) throw new Error(`embedded defaults are invalid: ${res.errors.join('; ')}`);
  return res.config;
}
