import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/errors.js';
import { fromChatCompletion, startResponse } from '../../src/edges/openai-responses/build-response.js';
import { toChatRequest } from '../../src/edges/openai-responses/convert-to-chat-request.js';
import { parseResponsesRequest } from '../../src/edges/openai-responses/parse-responses-request.js';

const parse = (body: Record<string, unknown>) => parseResponsesRequest({ model: 'm', ...body }, 100);

describe('Responses request → internal chat request', () => {
  it('joins an assistant turn and the function calls after it; outputs become tool messages', () => {
    const { request } = parse({
      instructions: 'sys',
      input: [
        { role: 'developer', content: 'dev note' },
        { role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_text', text: 'b' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'checking' }] },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"x":1}' },
        { type: 'function_call', call_id: 'c2', name: 'g', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: 'one' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'tw' }, { type: 'input_text', text: 'o' }] },
        { type: 'function_call', call_id: 'c3', name: 'f', arguments: '{}' },
      ],
    });
    const body = toChatRequest(request, []);
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'sys' },
      { role: 'developer', content: 'dev note' },
      { role: 'user', content: 'ab' },
      { role: 'assistant', content: 'checking', tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
        { id: 'c2', type: 'function', function: { name: 'g', arguments: '{}' } },
      ] },
      { role: 'tool', tool_call_id: 'c1', content: 'one' },
      { role: 'tool', tool_call_id: 'c2', content: 'two' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c3', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    ]);
  });

  it('maps parameters and text formats; the history comes before the input, without its instructions', () => {
    const { request } = parse({
      input: 'next', max_output_tokens: 10, parallel_tool_calls: false, reasoning: { effort: 'low' }, user: 'u',
      tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }], tool_choice: 'none',
      text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
    });
    const body = toChatRequest(request, [{ type: 'message', role: 'user', content: 'earlier' }]);
    assert.deepEqual(body.messages, [{ role: 'user', content: 'earlier' }, { role: 'user', content: 'next' }]);
    assert.equal(body.max_completion_tokens, 10);
    assert.equal(body.parallel_tool_calls, false);
    assert.equal(body.reasoning_effort, 'low');
    assert.equal(body.tool_choice, 'none');
    assert.deepEqual(body.tools, [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }]);
    assert.deepEqual(body.response_format, { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } });
  });

  it('records what a translated route loses, and refuses what no route can do', () => {
    const { translation } = parse({ input: [{ type: 'reasoning', id: 'r', summary: [] }, { role: 'user', content: 'x' }], include: ['reasoning.encrypted_content'], truncation: 'auto' });
    assert.equal(translation.losses.length, 3);
    assert.equal(translation.untranslatable, undefined);
    assert.deepEqual([...translation.fields].sort(), ['include', 'input', 'truncation']);
    const refused = (body: Record<string, unknown>, param: string) =>
      assert.throws(() => parse(body), (e: unknown) => e instanceof GatewayError && e.status === 400 && e.param === param);
    refused({ input: 'x', background: true }, 'background');
    refused({ input: [{ type: 'item_reference', id: 'x' }] }, 'input[0].type');
    refused({ input: 'x', tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'function', name: 'g' } }, 'tool_choice.name');
    refused({ input: 'x', temperature: 3 }, 'temperature');
    refused({ input: Array.from({ length: 101 }, () => ({ role: 'user', content: 'x' })) }, 'input');
  });

  it('a field named like an Object.prototype member (constructor, toString, __proto__) is an unknown parameter like any other', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const { translation } = parseResponsesRequest(JSON.parse(`{"model":"m","input":"x",${JSON.stringify(name)}:1}`), 100);
      assert.deepEqual(translation.untranslatable, { param: name, code: 'unknown_parameter', message: `Unknown parameter: '${name}'.` });
    }
  });

  it('leaves out what only a Responses upstream can take, naming the first for a translated route', () => {
    const { request, translation } = parse({
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'see' }, { type: 'input_file', file_id: 'f' }] }, { type: 'web_search_call', id: 'ws', status: 'completed' }],
      tools: [{ type: 'web_search' }, { type: 'function', name: 'f' }], tool_choice: { type: 'web_search' }, text: { format: { type: 'grammar' }, verbosity: 'low' }, frobnicate: 1,
    });
    assert.deepEqual(translation.untranslatable, {
      param: 'frobnicate', code: 'unknown_parameter', message: "Unknown parameter: 'frobnicate'.",
    });
    assert.deepEqual([...translation.fields].sort(), ['frobnicate', 'input', 'text', 'tool_choice', 'tools']);
    assert.deepEqual(request.input, [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'see' }] }]);
    assert.deepEqual(request.tools, [{ type: 'function', name: 'f' }]);
    assert.equal(request.tool_choice, undefined);
    const tool = parse({ input: 'x', tools: [{ type: 'file_search', vector_store_ids: ['vs'] }] }).translation.untranslatable;
    assert.equal(tool?.param, 'tools[0].type');
    assert.match(tool?.message ?? '', /built-in tool 'file_search' needs an upstream that speaks the Responses API/);
  });
});

describe('chat completion → Response', () => {
  const start = startResponse(parse({ input: 'x', metadata: { a: 'b' } }).request, 'resp_x', 1);

  it('text, refusal and tool calls become output items; usage takes the Responses names', () => {
    const r = fromChatCompletion(start, {
      choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: 'hi', refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] } }],
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12, prompt_tokens_details: { cached_tokens: 2 }, completion_tokens_details: { reasoning_tokens: 3 } },
    });
    assert.equal(r.status, 'completed');
    assert.deepEqual(r.metadata, { a: 'b' });
    assert.equal(r.output[0]!.type, 'message');
    assert.deepEqual(r.output[1], { ...r.output[1], type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}', status: 'completed' });
    assert.deepEqual(r.usage, { input_tokens: 5, input_tokens_details: { cached_tokens: 2 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 3 }, total_tokens: 12 });
  });

  it('a reply cut by the token limit is incomplete', () => {
    const r = fromChatCompletion(start, { choices: [{ index: 0, finish_reason: 'length', message: { role: 'assistant', content: 'par' } }] });
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(r.output[0]!.status, 'incomplete');
  });
});
