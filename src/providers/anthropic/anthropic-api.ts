/**
 * The Anthropic Messages API wire format: the parts of it the adapter writes and reads.
 */

export interface AnthropicTextBlock { type: 'text'; text: string }
export interface AnthropicImageBlock {
  type: 'image';
  source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };
}
export interface AnthropicDocumentBlock { type: 'document'; source: { type: 'base64'; media_type: string; data: string } }
export interface AnthropicToolUseBlock { type: 'tool_use'; id: string; name: string; input: unknown }
export interface AnthropicToolResultBlock { type: 'tool_result'; tool_use_id: string; content: string | AnthropicTextBlock[] }

export type AnthropicContentBlock =
  | AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock | AnthropicToolUseBlock | AnthropicToolResultBlock;

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: string | AnthropicContentBlock[];
}

export interface AnthropicTool { name: string; description?: string; input_schema: Record<string, unknown> }

export type AnthropicToolChoice =
  | { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export interface AnthropicRequest {
  model: string;
  messages: AnthropicMessage[];
  max_tokens: number;
  system?: string | AnthropicTextBlock[];
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  /** Carried as the caller sent it (enabled with a budget, adaptive, ...). */
  thinking?: Record<string, unknown>;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
  stream?: boolean;
}

export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** A response content block as read back (text, tool_use, and kinds the adapter skips such as thinking). */
export interface AnthropicResponseBlock { type: string; text?: string; thinking?: string; id?: string; name?: string; input?: unknown }

export interface AnthropicResponse {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: string | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}
