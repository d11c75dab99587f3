import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunksOf } from '../helpers/stream-parts.js';
import { GatewayError } from '../../src/errors.js';
import { anthropicStreamParts } from '../../src/providers/anthropic/anthropic-stream.js';
import { buildAnthropicRequest } from '../../src/providers/anthropic/build-anthropic-request.js';
import { convertAnthropicResponse } from '../../src/providers/anthropic/convert-anthropic-response.js';
import { mapAnthropicStopReason } from '../../src/providers/anthropic/map-anthropic-stop-reason.js';
import type { SseEvent } from '../../src/providers/sse.js';
import { redactKeyLike } from '../../src/providers/redact.js';
import type { StreamPart } from '../../src/providers/types.js';

const build = (body: Record<string, unknown>, stream = false) =>
  buildAnthropicRequest(body, { model: 'claude-test', stream, defaultMaxTokens: 4096 });

describe('OpenAI chat request → Anthropic Messages request', () => {
  it('moves system messages to system, merges same-role turns, maps parameters', () => {
    const { request, warnings } = build({
      model: 'alias',
      messages: [
        { role: 'system', content: 'rule one' },
        { role: 'developer', content: [{ type: 'text', text: 'rule two' }] },
        { role: 'user', content: 'first' },
        { role: 'user', content: [{ type: 'text', text: 'second' }] },
        { role: 'assistant', content: 'answer' },
        { role: 'user', content: 'again' },
      ],
      max_completion_tokens: 300, max_tokens: 99, temperature: 0.4, top_p: 0.9, stop: 'END', user: 'user-7',
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(request, {
      model: 'claude-test',
      system: 'rule one\n\nrule two',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }] },
        { role: 'assistant', content: 'answer' },
        { role: 'user', content: 'again' },
      ],
      max_tokens: 300, temperature: 0.4, top_p: 0.9, stop_sequences: ['END'], metadata: { user_id: 'user-7' },
    });
  });

  it('uses max_tokens, else the default', () => {
    assert.equal(build({ messages: [{ role: 'user', content: 'x' }], max_tokens: 12 }).request.max_tokens, 12);
    assert.equal(build({ messages: [{ role: 'user', content: 'x' }] }).request.max_tokens, 4096);
    assert.throws(() => build({ messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }), GatewayError);
  });

  it('converts tools, tool calls and tool results', () => {
    const { request } = build({
      messages: [
        { role: 'user', content: 'weather in Paris and Rome?' },
        {
          role: 'assistant', content: 'Let me check.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'rain' }] },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: 'required', parallel_tool_calls: false,
    });
    assert.deepEqual(request.tools, [{ name: 'get_weather', description: 'Weather now', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }]);
    assert.deepEqual(request.tool_choice, { type: 'any', disable_parallel_tool_use: true });
    assert.deepEqual(request.messages[1], {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
      ],
    });
    assert.deepEqual(request.messages[2], {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' }, { type: 'tool_result', tool_use_id: 'call_2', content: 'rain' }],
    });
  });

  it('refuses tool call arguments nested deeper than a body may be, before parsing them (they serialised to a stack overflow)', () => {
    const call = (args: string) => ({
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: args } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'done' },
      ],
    });
    const deep = `{"a":${'['.repeat(500_000)}${']'.repeat(500_000)}}`;
    assert.throws(() => build(call(deep)), (e: unknown) => e instanceof GatewayError && e.status === 400 && e.code === 'nesting_too_deep' && e.param === 'messages[1].tool_calls[0].function.arguments');
    // Brackets inside the arguments' strings are text; 64 levels are fine.
    const fine = build(call(`{"s":"${'['.repeat(1000)}","n":${'['.repeat(63)}${']'.repeat(63)}}`)).request;
    assert.equal((fine.messages[1]!.content as Array<{ type: string }>)[0]!.type, 'tool_use');
  });

  it('refuses more values in all the tool calls\' arguments than a body may hold, before parsing them', () => {
    // Numbers inside a string escape the body's own count of values; each argument string is parsed and serialised again.
    const numbers = (n: number) => `{"x":[${'0,'.repeat(n - 1)}0]}`;
    const calls = (args: string[]) => ({
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: null, tool_calls: args.map((a, i) => ({ id: `c${i}`, type: 'function', function: { name: 'f', arguments: a } })) },
        ...args.map((_, i) => ({ role: 'tool', tool_call_id: `c${i}`, content: 'done' })),
      ],
    });
    const parts = [numbers(200_000), numbers(200_000), numbers(200_000)];
    assert.throws(() => build(calls(parts)), (e: unknown) => e instanceof GatewayError && e.status === 400 && e.code === 'too_many_values' && e.param === 'messages[1].tool_calls[2].function.arguments');
    // Within the bound, and commas inside the arguments' strings are text.
    const fine = build(calls([numbers(200_000), numbers(200_000), `{"s":"${','.repeat(300_000)}"}`])).request;
    assert.equal((fine.messages[1]!.content as Array<{ type: string }>).length, 3);
  });

  it('maps every tool_choice form', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    const choice = (tool_choice: unknown) => build({ messages: [{ role: 'user', content: 'x' }], tools, tool_choice }).request.tool_choice;
    assert.deepEqual(choice('auto'), { type: 'auto' });
    assert.deepEqual(choice('none'), { type: 'none' });
    assert.deepEqual(choice('required'), { type: 'any' });
    assert.deepEqual(choice({ type: 'function', function: { name: 'f' } }), { type: 'tool', name: 'f' });
    assert.equal(choice(undefined), undefined);
    assert.deepEqual(build({ messages: [{ role: 'user', content: 'x' }], tools }).request.tools, [{ name: 'f', input_schema: { type: 'object', properties: {} } }]);
    assert.throws(() => choice('sometimes'), (e: unknown) => e instanceof GatewayError && e.param === 'tool_choice');
  });

  it('converts images: data URLs to base64 sources, http URLs to url sources', () => {
    const { request } = build({
      messages: [{
        role: 'user', content: [
          { type: 'text', text: 'compare' },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/AAAA' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'high' } },
        ],
      }],
    });
    assert.deepEqual(request.messages[0].content, [
      { type: 'text', text: 'compare' },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/AAAA' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
    ]);
    assert.throws(() => build({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x' } }] }] }), GatewayError);
    assert.throws(() => build({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }), GatewayError);
  });

  it('rejects n > 1 with a 400 and warns about parameters it cannot honour', () => {
    assert.throws(() => build({ messages: [{ role: 'user', content: 'x' }], n: 2 }), (e: unknown) => e instanceof GatewayError && e.status === 400 && e.param === 'n');
    const { request, warnings } = build({
      messages: [{ role: 'user', content: 'x' }], n: 1, logprobs: true, top_logprobs: 2, seed: 1, frequency_penalty: 0, presence_penalty: 0.5,
      response_format: { type: 'json_schema', json_schema: { name: 's', schema: {} } }, temperature: 1.5,
    });
    assert.equal(request.temperature, 1);
    assert.deepEqual(warnings.sort(), [
      "parameter 'logprobs' is not supported by anthropic and was ignored",
      "parameter 'presence_penalty' is not supported by anthropic and was ignored",
      "parameter 'seed' is not supported by anthropic and was ignored",
      "parameter 'top_logprobs' is not supported by anthropic and was ignored",
      "response_format 'json_schema' is not supported by anthropic and was ignored",
      "temperature 1.5 is above anthropic's maximum of 1 and was sent as 1",
    ]);
    assert.deepEqual(build({ messages: [{ role: 'user', content: 'x' }], logprobs: false, response_format: { type: 'text' } }).warnings, []);
  });

  it('warns when a system message arrives mid-conversation', () => {
    const { request, warnings } = build({ messages: [{ role: 'user', content: 'a' }, { role: 'system', content: 'late rule' }] });
    assert.equal(request.system, 'late rule');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /moved into the system prompt/);
  });
});

describe('Anthropic reply → OpenAI chat.completion', () => {
  it('maps stop reasons', () => {
    assert.equal(mapAnthropicStopReason('end_turn'), 'stop');
    assert.equal(mapAnthropicStopReason('stop_sequence'), 'stop');
    assert.equal(mapAnthropicStopReason('max_tokens'), 'length');
    assert.equal(mapAnthropicStopReason('tool_use'), 'tool_calls');
    assert.equal(mapAnthropicStopReason('refusal'), 'content_filter');
    assert.equal(mapAnthropicStopReason(null), null);
  });

  it('converts content, tool calls and usage (cached input counted in prompt tokens)', () => {
    const { body, usage } = convertAnthropicResponse({
      id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', stop_reason: 'tool_use', stop_sequence: null,
      content: [
        { type: 'thinking' },
        { type: 'text', text: 'Checking ' },
        { type: 'text', text: 'now.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
      ],
      usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 90, cache_creation_input_tokens: 0 },
    });
    assert.deepEqual(usage, { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105, prompt_tokens_details: { cached_tokens: 90 } });
    assert.equal(body.id, 'msg_1');
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'claude-x');
    assert.deepEqual((body.choices as unknown[])[0], {
      index: 0, logprobs: null, finish_reason: 'tool_calls',
      message: {
        role: 'assistant', content: 'Checking now.', refusal: null,
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      },
    });
  });
});

async function* events(list: Array<[string, Record<string, unknown>]>): AsyncGenerator<SseEvent> {
  for (const [event, data] of list) yield { event, data: JSON.stringify({ type: event, ...data }) };
}

async function run(list: Array<[string, Record<string, unknown>]>, includeUsage = false): Promise<StreamPart[]> {
  const out: StreamPart[] = [];
  for await (const p of anthropicStreamParts(events(list), includeUsage, 'fallback-model', redactKeyLike)) out.push(p);
  return out;
}

describe('Anthropic stream → OpenAI chunks', () => {
  const start: [string, Record<string, unknown>] = ['message_start', { message: { id: 'msg_9', model: 'claude-x', usage: { input_tokens: 12, output_tokens: 1 } } }];

  it('maps text deltas, tool-call argument deltas, the finish reason and usage', async () => {
    const parts = await run([
      start,
      ['content_block_start', { index: 0, content_block: { type: 'text', text: '' } }],
      ['ping', {}],
      ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Let me ' } }],
      ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'check.' } }],
      ['content_block_stop', { index: 0 }],
      ['content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: {} } }],
      ['content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '' } }],
      ['content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"city": ' } }],
      ['content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } }],
      ['content_block_stop', { index: 1 }],
      ['content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_B', name: 'get_time', input: {} } }],
      ['content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } }],
      ['content_block_stop', { index: 2 }],
      ['message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 30 } }],
      ['message_stop', {}],
    ], true);
    const chunks = chunksOf(parts);
    const deltas = chunks.flatMap((c) => (c.choices ?? []).map((choice) => choice.delta));
    assert.deepEqual(deltas, [
      { role: 'assistant', content: '' },
      { content: 'Let me ' },
      { content: 'check.' },
      { tool_calls: [{ index: 0, id: 'toolu_A', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"city": ' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
      { tool_calls: [{ index: 1, id: 'toolu_B', type: 'function', function: { name: 'get_time', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{}' } }] },
      {},
    ]);
    const finish = chunks.at(-2);
    assert.ok(finish);
    assert.equal(finish.choices?.[0].finish_reason, 'tool_calls');
    assert.equal(finish.id, 'msg_9');
    assert.equal(finish.model, 'claude-x');
    assert.equal(finish.object, 'chat.completion.chunk');
    const usageChunk = chunks.at(-1);
    assert.ok(usageChunk);
    assert.deepEqual(usageChunk.choices, []);
    assert.deepEqual(usageChunk.usage, { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42, prompt_tokens_details: { cached_tokens: 0 } });
    assert.deepEqual(parts.at(-1), { type: 'done' });
  });

  it('hides the usage chunk unless asked (it is kept for billing) and maps max_tokens to length', async () => {
    const parts = await run([start, ['message_delta', { delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 3 } }], ['message_stop', {}]]);
    assert.deepEqual(parts.map((p) => p.type), ['metadata', 'text-delta', 'finish', 'usage', 'done']);
    assert.ok(parts[2].type === 'finish' && parts[2].reason === 'length');
    const usage = parts.filter((p) => p.type === 'usage');
    assert.equal(usage.length, 1);
    assert.ok(usage[0].type === 'usage' && usage[0].hidden === true && usage[0].usage.completion_tokens === 3);
    assert.ok(chunksOf(parts).every((c) => c.usage === undefined), 'the edge does not send hidden usage');
  });

  it('turns an error event into an error part and stops', async () => {
    const parts = await run([
      start,
      ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } }],
      ['error', { error: { type: 'overloaded_error', message: 'Overloaded' } }],
      ['message_stop', {}],
    ]);
    assert.deepEqual(parts.at(-1), { type: 'error', failure: { message: 'Overloaded', type: 'overloaded_error', code: 'overloaded_error' } });
    assert.ok(!parts.some((p) => p.type === 'done'));
  });
});
