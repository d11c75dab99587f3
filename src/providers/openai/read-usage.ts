import type { Usage } from '../types.js';

/** The `usage` object of an OpenAI-format body. Returned as is when complete (it may carry *_details); undefined when absent. */
export function readUsage(value: unknown): Usage | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const u = value as Partial<Record<keyof Usage, unknown>>;
  if (typeof u.prompt_tokens !== 'number') return undefined;
  if (typeof u.completion_tokens === 'number' && typeof u.total_tokens === 'number') return value as Usage;
  const completion = typeof u.completion_tokens === 'number' ? u.completion_tokens : 0;
  return { ...(value as object), prompt_tokens: u.prompt_tokens, completion_tokens: completion, total_tokens: u.prompt_tokens + completion };
}
