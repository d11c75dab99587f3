import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, provider, sims } from '../helpers/gateway.js';

const TOOL = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {} } } };

describe('an upstream that speaks the Responses API (responses: true)', () => {
  let up: Simulator;
  let gw: Gateway;
  let ai: OpenAI;

  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    gw = await gateway({ providers: { up: provider(up, ['gpt-5'], [{ id: 'k1' }], { responses: true }) } });
    ai = client(gw);
  });
  after(() => closeAll(gw, [up]));

  it('serves a chat completion from /v1/responses, sending the whole conversation and storing nothing upstream', async () => {
    const { data: r, response } = await ai.chat.completions.create({
      model: 'gpt-5', max_completion_tokens: 50, stop: ['END'],
      messages: [{ role: 'system', content: 'terse' }, { role: 'user', content: 'hello upstream' }],
    }).withResponse();
    assert.match(r.choices[0]!.message.content ?? '', /^\[up\] hello upstream/);
    assert.equal(r.choices[0]!.finish_reason, 'stop');
    assert.ok(r.usage && r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
    const sent = up.requests.at(-1)!;
    assert.equal(sent.path, '/v1/responses');
    assert.equal(sent.body!.store, false);
    assert.equal(sent.body!.max_output_tokens, 50);
    assert.deepEqual(sent.body!.input, [{ type: 'message', role: 'system', content: 'terse' }, { type: 'message', role: 'user', content: 'hello upstream' }]);
    assert.match(response.headers.get('x-switchyard-warnings') ?? '', /stop is not supported/);
  });

  it('maps tool calls both ways', async () => {
    const first = await ai.chat.completions.create({ model: 'gpt-5', tools: [TOOL], tool_choice: 'required', messages: [{ role: 'user', content: 'find it' }] });
    const call = first.choices[0]!.message.tool_calls![0]!;
    assert.equal(first.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(call.type === 'function' && call.function.name, 'lookup');
    assert.deepEqual(up.requests.at(-1)!.body!.tools, [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } }]);
    await ai.chat.completions.create({
      model: 'gpt-5', tools: [TOOL],
      messages: [{ role: 'user', content: 'find it' }, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'found' }],
    });
    const input = up.requests.at(-1)!.body!.input as any[];
    assert.deepEqual(input.slice(1), [
      { type: 'function_call', call_id: call.id, name: 'lookup', arguments: '{}' },
      { type: 'function_call_output', call_id: call.id, output: 'found' },
    ]);
  });

  it('streams chat chunks made from Responses events, with usage when asked and a length finish', async () => {
    const stream = await ai.chat.completions.create({
      model: 'gpt-5', stream: true, stream_options: { include_usage: true }, max_tokens: 2, messages: [{ role: 'user', content: 'one two three four' }],
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      usage = c.usage ?? usage;
    }
    assert.equal(text, '[up] one');
    assert.equal(finish, 'length');
    assert.equal(usage?.completion_tokens, 2);
  });

  it('sends files as input_file parts; a part it cannot carry is named in the warnings, never sent as empty text', async () => {
    const pdf = 'data:application/pdf;base64,JVBERi0xLjQK';
    const { response } = await ai.chat.completions.create({
      model: 'gpt-5',
      messages: [{
        role: 'user',
        content: [
          { type: 'text', text: 'summarise' },
          { type: 'file', file: { file_data: pdf, filename: 'a.pdf' } },
          { type: 'file', file: { file_id: 'file-abc' } },
          { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
        ],
      }],
    }).withResponse();
    const input = up.requests.at(-1)!.body!.input as any[];
    assert.deepEqual(input[0].content, [
      { type: 'input_text', text: 'summarise' },
      { type: 'input_file', file_data: pdf, filename: 'a.pdf' },
      { type: 'input_file', file_id: 'file-abc' },
    ]);
    assert.match(response.headers.get('x-switchyard-warnings') ?? '', /messages\[0\]\.content\[3\].*input_audio.*not sent/);
  });

  it('carries a Responses caller end to end, continuing a conversation the upstream never stored', async () => {
    const first = await ai.responses.create({ model: 'gpt-5', input: 'first question' });
    assert.match(first.output_text, /^\[up\] first question/);
    const stream = ai.responses.stream({ model: 'gpt-5', previous_response_id: first.id, input: 'second question' });
    for await (const _ of stream) { /* drain */ }
    const second = await stream.finalResponse();
    assert.match(second.output_text, /^\[up\] second question/);
    const input = up.requests.at(-1)!.body!.input as any[];
    assert.deepEqual(input.map((i) => i.role), ['user', 'assistant', 'user']);
    assert.equal(input[1].content[0].text, first.output_text);
  });
});
