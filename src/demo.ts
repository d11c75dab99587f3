/**
 * Demo mode: starts local upstream simulators (two OpenAI-compatible providers and an Anthropic one) on loopback and a config
 * that routes between them, so a newcomer can send requests and watch routing, fallbacks and caching work offline.
 */
import { validateConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { startSimulator } from './simulator/index.js';
import type { Simulator } from './simulator/types.js';

export interface Demo {
  config: Config;
  simulators: Simulator[];
  close(): Promise<void>;
}

export async function startDemo(): Promise<Demo> {
  const fast = await startSimulator({ protocol: 'openai', name: 'fast-llm', models: ['small', 'embed-small'], latencyMs: 5 });
  const smart = await startSimulator({ protocol: 'openai', name: 'smart-llm', models: ['large'], latencyMs: 20 });
  const claude = await startSimulator({ protocol: 'anthropic', name: 'claude', latencyMs: 15 });
  const raw = {
    server: { admin_key: 'demo-admin-key-change-me' },
    governance: { allow_anonymous: true },
    providers: {
      fast: { kind: 'openai', base_url: fast.url, keys: [{ id: 'k1', value: 'demo' }, { id: 'k2', value: 'demo' }], models: ['small', 'embed-small'] },
      smart: { kind: 'openai', base_url: smart.url, keys: [{ id: 'k1', value: 'demo' }], models: ['large'] },
      claude: { kind: 'anthropic', base_url: claude.url, keys: [{ id: 'k1', value: 'demo' }], models: ['claude-sonnet-4-5'] },
    },
    aliases: {
      auto: { targets: [{ target: 'fast/small', weight: 0.8 }, { target: 'smart/large', weight: 0.2 }], fallbacks: ['claude/claude-sonnet-4-5'] },
    },
    routing: { fallbacks: { 'smart/large': ['claude/claude-sonnet-4-5'] } },
    cache: { enabled: true },
    // The demo shows routing by meaning on whatever machine it runs on, busy or not: its requests may wait up to a second
    // for their embedding (a production gateway keeps the small default and degrades instead; see docs/embeddings.md).
    semantic: { max_wait_ms: 1000 },
    // Intent routing on the example reference prompts in reference-prompts/: code and math go to the large model, creative
    // writing to Claude, small talk stays on the small one; anything else follows the `auto` alias.
    rules: [
      { name: 'code-and-math-to-large', cel_expression: '(intent == "code" || intent == "math") && intent_score > 0.4', targets: [{ provider: 'smart', model: 'large' }] },
      { name: 'creative-to-claude', cel_expression: 'intent == "creative_writing"', targets: [{ provider: 'claude', model: 'claude-sonnet-4-5' }] },
      { name: 'small-talk-stays-small', cel_expression: 'intent == "chit_chat"', targets: [{ provider: 'fast', model: 'small' }] },
    ],
  };
  const res = validateConfig(raw);
  if (!res.ok) throw new Error(`demo config is invalid: ${res.errors.join('; ')}`);
  const simulators = [fast, smart, claude];
  return { config: res.config, simulators, close: async () => { await Promise.all(simulators.map((s) => s.close())); } };
}
