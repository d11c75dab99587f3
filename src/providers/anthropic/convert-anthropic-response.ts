/**
 * An Anthropic Messages response → an OpenAI chat.completion (thinking blocks → reasoning_content).
 */
import type { Usage } from '../types.js';
import type { AnthropicResponse } from './anthropic-api.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';
import { mapAnthropicUsage } from './map-anthropic-usage.js';

export function convertAnthropicResponse(res: AnthropicResponse): { body: Record<string, unknown>; usage: Usage } {
  let text: string | null = null;
  let reasoning: string | null = null;
  const toolCalls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
  for (const block of Array.isArray(res.content) ? res.content : []) {
    if (block.type === 'text' && typeof block.text === 'string') text = text === null ? block.text : text + block.text;
    else if (block.type === 'thinking' && typeof block.thinking === 'string') reasoning = reasoning === null ? block.thinking : reasoning + block.thinking;
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: String(block.id), type: 'function', function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) } });
    }
  }
  const usage = mapAnthropicUsage(res.usage ?? {});
  const message: Record<string, unknown> = { role: 'assistant', content: text, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  // Thinking (only present when the request asked for it) travels as reasoning_content, the field OpenAI-compatible servers use.
  if (reasoning !== null) message.reasoning_content = reasoning;
  return {
    body: {
      id: res.id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: res.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: mapAnthropicStopReason(res.stop_reason) ?? 'stop' }],
      usage,
    },
    usage,
  };
}
