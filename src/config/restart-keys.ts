/**
 * Settings a config reload cannot change in a running gateway: they shape listeners, connections, stores or the loaded
 * model, which are built once at start-up. A reload applies everything else and names these when they changed, so an
 * operator knows the file and the process disagree until the next restart. (The cache section's come from
 * SemanticCache.prepare; the gateway logs both in one line.)
 */
import type { Config } from './schema.js';

/** The parts of `semantic` read on every request (what text is embedded, how long to wait for it); the rest builds the model and catalogue. */
const BUILT_SEMANTIC = (s: Config['semantic']): unknown => ({ ...s, embed_text: undefined, max_wait_ms: undefined });

const RESTART_ONLY: Array<[string, (c: Config) => unknown]> = [
  ['server.host', (c) => c.server.host],
  ['server.port', (c) => c.server.port],
  ['logging.level', (c) => c.logging.level],
  ['redis', (c) => c.redis],
  ['observability', (c) => c.observability],
  ['governance.store', (c) => c.governance.store],
  ['governance.refresh_interval_s', (c) => c.governance.refresh_interval_s],
  ['semantic', (c) => BUILT_SEMANTIC(c.semantic)],
  ['safety.jailbreak.examples', (c) => c.safety.jailbreak.examples],
  ['safety.jailbreak.benign_examples', (c) => c.safety.jailbreak.benign_examples],
  ['responses.store', (c) => c.responses.store],
];

/** The restart-only settings that differ between the running config and a new one. */
export function pendingRestart(running: Config, next: Config): string[] {
  return RESTART_ONLY.filter(([, read]) => JSON.stringify(read(running)) !== JSON.stringify(read(next))).map(([name]) => name);
}
