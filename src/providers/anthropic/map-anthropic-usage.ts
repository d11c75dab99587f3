import { tokenCount } from '../openai/read-usage.js';
import type { Usage } from '../types.js';
import type { AnthropicUsage } from './anthropic-api.js';

/**
 * Anthropic usage → OpenAI usage. Anthropic's input_tokens excludes cached prompt tokens; OpenAI's prompt_tokens includes
 * them, with the cached share in prompt_tokens_details.cached_tokens. A count that is missing or not a number (as the upstream
 * sent it) reads 0.
 */
export function mapAnthropicUsage(u: AnthropicUsage): Usage {
  const cacheRead = tokenCount(u.cache_read_input_tokens) ?? 0;
  const prompt = (tokenCount(u.input_tokens) ?? 0) + (tokenCount(u.cache_creation_input_tokens) ?? 0) + cacheRead;
  const completion = tokenCount(u.output_tokens) ?? 0;
  return Object.assign(
    { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    { prompt_tokens_details: { cached_tokens: cacheRead } },
  );
}
