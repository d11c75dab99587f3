import type { Usage } from '../types.js';

/** A token count an upstream reported: a finite number not below zero, else undefined. */
export const tokenCount = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/**
 * The `usage` object of an OpenAI-format body (a JSON reply's, or a stream's usage chunk). Returned as is when complete (it may
 * carry *_details); with its missing or unusable completion and total counts made up from the others; undefined when absent
 * or when it has no usable prompt count — what the accounting then estimates, rather than adding a count that is not a number
 * to a budget.
 */
export function readUsage(value: unknown): Usage | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const u = value as Partial<Record<keyof Usage, unknown>>;
  const prompt = tokenCount(u.prompt_tokens);
  if (prompt === undefined) return undefined;
  const completion = tokenCount(u.completion_tokens);
  if (completion !== undefined && tokenCount(u.total_tokens) !== undefined) return value as Usage;
  const done = completion ?? 0;
  return { ...(value as object), prompt_tokens: prompt, completion_tokens: done, total_tokens: prompt + done };
}
