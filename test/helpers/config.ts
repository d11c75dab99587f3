/**
 * Test configs and the quiet logger, without the gateway: a test of a part that takes a config imports this, not
 * ./gateway.ts, and so does not load the whole gateway.
 */
import { pino } from 'pino';
import { validateConfig } from '../../src/config/load.js';

export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/**
 * Semantic budget of test gateways that do not set one: tests assert what a request's meaning does, not how fast it is had,
 * so on a loaded machine the embedding must not run out of `semantic.max_wait_ms` (test/core/semantic-budget.test.ts
 * tests the budget itself).
 */
export const TEST_SEMANTIC_BUDGET_MS = 60_000;

/**
 * Test configs leave local embeddings off unless they ask for a `semantic` section (start-up then loads the model), and allow
 * anonymous callers unless they declare a `governance` section.
 */
export function config(raw: Record<string, unknown>) {
  const res = validateConfig({
    ...raw,
    semantic: 'semantic' in raw ? { max_wait_ms: TEST_SEMANTIC_BUDGET_MS, ...(raw.semantic as object) } : { enabled: false },
    ...('governance' in raw ? {} : { governance: { allow_anonymous: true } }),
  });
  if (!res.ok) throw new Error(`test config invalid:\n${res.errors.join('\n')}`);
  return res.config;
}
