/**
 * Settings a config reload cannot change in a running gateway: they shape listeners, connections, stores or the loaded
 * model, which are built once at start-up. A reload applies everything else and names these when they changed, so an
 * operator knows the file and the process disagree until the next restart. (The cache section reports its own: see
 * SemanticCache.prepare.)
 */
import type { Config } from './schema.js';

/** Parts of `semantic` read on every request, and so reloaded live. */
const LIVE_SEMANTIC = (s: Config['semantic']): unknown => ({ ...s, embed_text: undefined, embedder: { ...s.embedder, max_input_chars: undefined } });

const RESTART_ONLY: Array<[string, (c: Config) => unknown]> = [
  ['server.host', (c) => c.server.host],
  ['server.port', (c) => c.server.port],
  ['redis', (c) => c.redis],
  ['observability', (c) => c.observability],
  ['governance.store', (c) => c.governance.store],
  ['governance.refresh_interval_s', (c) => c.governance.refresh_interval_s],
  ['semantic', (c) => LIVE_SEMANTIC(c.semantic)],
];

/** The restart-only settings that differ between the running config and a new one. */
export function pendingRestart(running: Config, next: Config): string[] {
  return RESTART_ONLY.filter(([, read]) => JSON.stringify(read(running)) !== JSON.stringify(read(next))).map(([name]) => name);
}
