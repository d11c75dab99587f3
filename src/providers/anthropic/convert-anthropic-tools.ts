/**
 * OpenAI tools / tool_choice / parallel_tool_calls → Anthropic tools / tool_choice.
 */
import { invalidRequest } from '../../errors.js';
import type { AnthropicTool, AnthropicToolChoice } from './anthropic-api.js';

type Obj = Record<string, unknown>;

export function convertAnthropicTools(body: Obj, warnings: string[]): { tools?: AnthropicTool[]; tool_choice?: AnthropicToolChoice } {
  const tools = body.tools;
  if (tools === undefined || tools === null || (Array.isArray(tools) && tools.length === 0)) {
    if (body.tool_choice !== undefined && body.tool_choice !== null && body.tool_choice !== 'none' && body.tool_choice !== 'auto') {
      throw invalidRequest("'tool_choice' requires 'tools'", 'tool_choice');
    }
    return {};
  }
  if (!Array.isArray(tools)) throw invalidRequest("'tools' must be an array", 'tools');
  let strictIgnored = false;
  const out: AnthropicTool[] = tools.map((raw, i) => {
    const tool = (raw ?? {}) as Obj;
    const fn = (tool.function ?? {}) as Obj;
    if (tool.type !== 'function' || typeof fn.name !== 'string') {
      throw invalidRequest("only tools of type 'function' with a name are supported by this provider", `tools[${i}]`);
    }
    if (fn.strict === true && !strictIgnored) {
      strictIgnored = true;
      warnings.push("tools[].function.strict is not supported by anthropic and was ignored");
    }
    const params = fn.parameters as Record<string, unknown> | undefined;
    return {
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      input_schema: params ?? { type: 'object', properties: {} },
    };
  });

  const disableParallel = body.parallel_tool_calls === false;
  const choice = body.tool_choice as Obj | string | undefined | null;
  let mapped: AnthropicToolChoice | undefined;
  if (choice === undefined || choice === null) mapped = disableParallel ? { type: 'auto', disable_parallel_tool_use: true } : undefined;
  else if (choice === 'auto') mapped = { type: 'auto', ...(disableParallel ? { disable_parallel_tool_use: true } : {}) };
  else if (choice === 'required') mapped = { type: 'any', ...(disableParallel ? { disable_parallel_tool_use: true } : {}) };
  else if (choice === 'none') mapped = { type: 'none' };
  else if (typeof choice === 'object' && choice.type === 'function' && typeof (choice.function as Obj | undefined)?.name === 'string') {
    mapped = { type: 'tool', name: (choice.function as { name: string }).name, ...(disableParallel ? { disable_parallel_tool_use: true } : {}) };
  } else {
    throw invalidRequest("'tool_choice' must be 'auto', 'none', 'required' or {type:'function', function:{name}}", 'tool_choice');
  }
  return mapped === undefined ? { tools: out } : { tools: out, tool_choice: mapped };
}
