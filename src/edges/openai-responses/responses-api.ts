/**
 * The OpenAI Responses wire format, as far as the gateway speaks it: the request after validation, conversation items, the
 * Response object and its usage. Shapes follow the public API reference (platform.openai.com/docs/api-reference/responses);
 * only the fields the gateway reads or writes are declared.
 */

/** A content part of an input message (user, system, developer) or of an assistant message replayed as input. */
export type InputContent =
  | { type: 'input_text'; text: string }
  | { type: 'input_image'; image_url: string; detail?: 'low' | 'high' | 'auto' }
  | { type: 'output_text'; text: string }
  | { type: 'refusal'; refusal: string };

export type MessageRole = 'user' | 'assistant' | 'system' | 'developer';

/**
 * One conversation item the internal request can carry: what a caller sends as `input` and what a Response's `output`
 * holds, as far as the gateway models them. A stored conversation (for previous_response_id) keeps the items as sent and
 * answered, and is read back into these (src/edges/openai-responses/parse-responses-request.ts `parseItems`).
 */
export type ConversationItem =
  | { type: 'message'; role: MessageRole; content: string | InputContent[] }
  | { type: 'function_call'; call_id: string; name: string; arguments: string }
  | { type: 'function_call_output'; call_id: string; output: string };

/** A function tool in the Responses shape (flat, unlike chat's nested `function`). */
export interface FunctionTool {
  type: 'function';
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; name: string };

/** The text output format (`text.format`). */
export type TextFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };

/** A validated `POST /v1/responses` body. */
export interface ResponsesRequest {
  model: string;
  /** The caller's input, normalised to items (a string input is one user message). */
  input: ConversationItem[];
  instructions?: string;
  tools: FunctionTool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  max_output_tokens?: number;
  temperature?: number;
  top_p?: number;
  stream: boolean;
  /** Keep the response for GET and previous_response_id (the API's default is true). */
  store: boolean;
  previous_response_id?: string;
  text?: { format?: TextFormat };
  reasoning?: { effort?: string };
  user?: string;
  metadata?: Record<string, string>;
  service_tier?: string;
  truncation?: 'auto' | 'disabled';
}

/** An output item of a Response. */
export type OutputItem =
  | {
    type: 'message';
    id: string;
    status: ItemStatus;
    role: 'assistant';
    content: Array<{ type: 'output_text'; text: string; annotations: unknown[]; logprobs: unknown[] } | { type: 'refusal'; refusal: string }>;
  }
  | { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: ItemStatus };

export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** The Response object (`object: "response"`). */
export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: null };
  service_tier: string | null;
  store: boolean;
  temperature: number | null;
  text: { format: TextFormat };
  tool_choice: ToolChoice;
  tools: FunctionTool[];
  top_p: number | null;
  truncation: 'auto' | 'disabled';
  usage: ResponseUsage | null;
  user: string | null;
  metadata: Record<string, string>;
}
