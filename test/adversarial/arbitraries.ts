/**
 * Generators for the adversarial suite: what a hostile or careless caller sends (bodies, headers, model names), what a
 * broken upstream answers (malformed JSON, broken SSE, huge lines, wrong content types, slow drips, hangs, resets), and
 * config files an operator might save. Built on fast-check so failures shrink to a minimal case and replay from a seed.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { ScriptedReply } from '../helpers/scripted-upstream.js';

export interface CallerCase {
  /** POST unless given. */
  method?: string;
  path: string;
  headers: Record<string, string>;
  /** A JSON value to serialise, or raw bytes/text sent as is. */
  body: { json: unknown } | { raw: string | Uint8Array };
}

/** Names every plain object answers to (Object.prototype's members). */
const protoName = fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf');

/** Fields named like Object.prototype's members, with any value, to merge into a request body. */
const protoFields = fc.dictionary(protoName, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 });

/** A body, now and then with fields named like Object.prototype's members besides its own. */
const withProtoFields = <T extends object>(body: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.tuple(body, fc.option(protoFields, { freq: 4 })).map(([b, extra]) => (extra === null ? b : { ...extra, ...b }));

/** Header-safe text: printable ASCII and Latin-1 (what HTTP can carry at all). */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c < 0x7f || c > 0x9f).map((c) => String.fromCharCode(c)), maxLength: 60 });

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\r\nSet-Cookie: x=1', '模型', '\u0000', '\ud800', '../../etc/passwd', '${PATH}', '<script>', '%0d%0a', ' ', ''),
  // Names every plain object has: a lookup table keyed by caller text must not find them.
  protoName,
);

export const modelName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('pa/m', 'pb/m', 'pc/m', 'alias', 'm') },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('pa/', 'pb/', 'pc/', ''), hostileText).map(([p, t]) => p + t) },
  { weight: 1, arbitrary: fc.constantFrom('a'.repeat(300), 'pa/' + 'x'.repeat(5000)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const content = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.array(fc.record({ type: fc.constantFrom('text', 'image_url', 'weird'), text: fc.option(fc.string({ maxLength: 20 })) }), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

const message = fc.record({
  role: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('user', 'system', 'assistant', 'tool', 'developer') }, { weight: 1, arbitrary: hostileText }),
  content,
}, { requiredKeys: ['role'] });

/** An array or object nested `depth` levels, as text (JSON.stringify of such a value would itself overflow). */
const deepText = fc.tuple(fc.integer({ min: 50, max: 20_000 }), fc.boolean()).map(([depth, obj]) => (obj ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth)));

const chatBody = withProtoFields(fc.record({
  model: modelName,
  messages: fc.oneof({ weight: 6, arbitrary: fc.array(message, { minLength: 1, maxLength: 4 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }),
  stream: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
  temperature: fc.oneof(fc.double(), fc.jsonValue({ maxDepth: 1 })),
  max_tokens: fc.oneof(fc.integer(), fc.jsonValue({ maxDepth: 1 })),
  n: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.jsonValue({ maxDepth: 1 })),
  tools: fc.jsonValue({ maxDepth: 4 }),
  tool_choice: fc.jsonValue({ maxDepth: 2 }),
  stop: fc.jsonValue({ maxDepth: 2 }),
  response_format: fc.jsonValue({ maxDepth: 3 }),
  stream_options: fc.jsonValue({ maxDepth: 2 }),
  extra: fc.jsonValue({ maxDepth: 4 }),
}, { requiredKeys: [] }));

const body: fc.Arbitrary<CallerCase['body']> = fc.oneof(
  { weight: 8, arbitrary: chatBody.map((json) => ({ json })) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 5 }).map((json) => ({ json })) },
  { weight: 1, arbitrary: fc.tuple(deepText, modelName).map(([deep, m]) => ({ raw: `{"model":${JSON.stringify(m) ?? '"pa/m"'},"messages":[{"role":"user","content":"x"}],"extra":${deep}}` })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((raw) => ({ raw })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((raw) => ({ raw })) },
  // Around the suite's server.limits.max_string_chars (65,536), on either side.
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 70_000 }).map((n) => ({ json: { model: 'pa/m', messages: [{ role: 'user', content: 'x'.repeat(n) }] } })) },
);

/** Embeddings bodies: text, lists of texts, token arrays, and the odd values around them. */
const embeddingsBody = fc.record({
  model: modelName,
  input: fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 3, arbitrary: fc.array(fc.string({ maxLength: 30 }), { maxLength: 5 }) },
    { weight: 1, arbitrary: fc.array(fc.integer({ min: -1, max: 100_000 }), { maxLength: 8 }) },
    { weight: 1, arbitrary: fc.array(fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 4 }), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom([], [''], Array.from({ length: 3000 }, () => 'x')) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  ),
  encoding_format: fc.oneof(fc.constantFrom('float', 'base64', 'x'), fc.jsonValue({ maxDepth: 0 })),
  dimensions: fc.oneof(fc.integer({ min: -1, max: 4096 }), fc.jsonValue({ maxDepth: 0 })),
  user: fc.jsonValue({ maxDepth: 1 }),
}, { requiredKeys: ['model', 'input'] });

const callerBody = (path: string): fc.Arbitrary<CallerCase['body']> =>
  path === '/v1/embeddings' ? fc.oneof({ weight: 2, arbitrary: embeddingsBody.map((json) => ({ json })) }, { weight: 1, arbitrary: body }) : body;

/** Headers the gateway forwards upstream (src/providers/execute.ts) or reads itself, any of them with any value HTTP can carry. */
const forwardedHeaders = {
  'openai-organization': fc.oneof(fc.constantFrom('org-x', 'org-\u00e9t\u00e9', ''), headerText),
  'openai-project': fc.oneof(fc.constantFrom('proj_x', ''), headerText),
  'x-stainless-arch': headerText,
  'anthropic-beta': fc.oneof(fc.constantFrom('prompt-caching-2024-07-31', 'a,b,,c', ''), headerText),
};
const switchyardHeaders = {
  'x-switchyard-cache': fc.oneof(fc.constantFrom('bypass', 'no-store', 'refresh'), headerText),
  'x-switchyard-cache-ttl': fc.oneof(fc.constantFrom('0', '-1', '1e309', '86400', ' 5 '), headerText),
  'x-switchyard-cache-threshold': fc.oneof(fc.constantFrom('0', '1', '1.5', 'NaN', '-0'), headerText),
  'x-switchyard-session': headerText,
};

/** An Authorization header with one of the tenants' virtual keys. */
const bearer = (virtualKeys: readonly string[]): fc.Arbitrary<string> => fc.constantFrom(...virtualKeys).map((k) => `Bearer ${k}`);

export const callerCase = (virtualKeys: readonly string[]): fc.Arbitrary<CallerCase> => fc.constantFrom('/v1/chat/completions', '/v1/chat/completions', '/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/Chat/Completions/').chain((path) => fc.record({
  path: fc.constant(path),
  headers: fc.record({
    'content-type': fc.oneof(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/vnd.api+json'), headerText),
    authorization: fc.oneof({ weight: 6, arbitrary: bearer(virtualKeys) }, { weight: 1, arbitrary: headerText }, { weight: 1, arbitrary: fc.constant('Bearer sk-sy-not-a-real-key-000000') }),
    'x-request-id': headerText,
    ...switchyardHeaders,
    ...forwardedHeaders,
    'content-encoding': fc.constantFrom('identity', 'gzip', 'br', 'nonsense'),
  }, { requiredKeys: [] }),
  body: callerBody(path),
}));

const block = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('text'), text: fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 1 })) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('image'), source: fc.oneof(fc.record({ type: fc.constantFrom('base64', 'url'), media_type: fc.constantFrom('image/png', 'text/html'), data: fc.string({ maxLength: 20 }), url: hostileText }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 2 })) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('tool_use'), id: fc.oneof(fc.constant('tu1'), hostileText), name: hostileText, input: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: ['type'] }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('tool_result'), tool_use_id: fc.oneof(fc.constant('tu1'), fc.jsonValue({ maxDepth: 1 })), content: fc.jsonValue({ maxDepth: 3 }), is_error: fc.boolean() }, { requiredKeys: ['type'] }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('thinking', 'redacted_thinking', 'document', 'server_tool_use', 'weird'), thinking: fc.string({ maxLength: 20 }), signature: fc.string({ maxLength: 20 }), cache_control: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['type'] }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const messagesBody = withProtoFields(fc.record({
  model: modelName,
  max_tokens: fc.oneof(fc.integer({ min: -2, max: 64 }), fc.jsonValue({ maxDepth: 1 })),
  messages: fc.oneof(
    { weight: 6, arbitrary: fc.array(fc.record({ role: fc.oneof(fc.constantFrom('user', 'assistant'), hostileText), content: fc.oneof(fc.string({ maxLength: 60 }), fc.array(block, { maxLength: 3 })) }, { requiredKeys: [] }), { minLength: 1, maxLength: 4 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  ),
  system: fc.oneof(fc.string({ maxLength: 30 }), fc.jsonValue({ maxDepth: 3 })),
  stream: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
  temperature: fc.oneof(fc.double(), fc.jsonValue({ maxDepth: 1 })),
  top_k: fc.oneof(fc.integer({ min: -1, max: 50 }), fc.jsonValue({ maxDepth: 1 })),
  stop_sequences: fc.jsonValue({ maxDepth: 2 }),
  metadata: fc.jsonValue({ maxDepth: 2 }),
  tools: fc.oneof(fc.array(fc.record({ name: hostileText, input_schema: fc.jsonValue({ maxDepth: 3 }), type: fc.constantFrom('custom', 'web_search_20250305') }, { requiredKeys: [] }), { maxLength: 2 }), fc.jsonValue({ maxDepth: 3 })),
  tool_choice: fc.oneof(fc.record({ type: fc.constantFrom('auto', 'any', 'tool', 'none', 'x'), name: hostileText }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 2 })),
  thinking: fc.oneof(fc.record({ type: fc.constantFrom('enabled', 'adaptive', 'disabled', 'x'), budget_tokens: fc.integer({ min: -1, max: 4096 }) }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 2 })),
  extra: fc.jsonValue({ maxDepth: 3 }),
}, { requiredKeys: [] }));

/** Mostly well-formed Messages requests, so the success paths (translated, native, streamed) are exercised too. */
const wellFormedMessagesBody = fc.record({
  model: fc.constantFrom('pa/m', 'pb/m', 'pc/m', 'alias'),
  max_tokens: fc.integer({ min: 1, max: 64 }),
  messages: fc.array(fc.oneof(
    fc.record({ role: fc.constant('user'), content: fc.string({ minLength: 1, maxLength: 60 }) }),
    fc.record({ role: fc.constant('user'), content: fc.array(fc.record({ type: fc.constant('text'), text: fc.string({ maxLength: 30 }) }), { minLength: 1, maxLength: 2 }) }),
    fc.record({ role: fc.constant('assistant'), content: fc.array(fc.oneof(
      fc.record({ type: fc.constant('text'), text: fc.string({ maxLength: 30 }) }),
      fc.record({ type: fc.constant('thinking'), thinking: fc.string({ maxLength: 20 }), signature: fc.string({ maxLength: 20 }) }),
    ), { minLength: 1, maxLength: 2 }) }),
  ), { minLength: 1, maxLength: 3 }).map((ms) => [...ms, { role: 'user', content: 'last turn' }]),
  system: fc.string({ maxLength: 30 }),
  stream: fc.boolean(),
  temperature: fc.double({ min: 0, max: 1, noNaN: true }),
  top_k: fc.integer({ min: 0, max: 50 }),
  stop_sequences: fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }),
  tools: fc.constant([{ name: 'lookup', input_schema: { type: 'object' } }]),
  tool_choice: fc.constantFrom({ type: 'auto' }, { type: 'any' }, { type: 'tool', name: 'lookup' }),
  service_tier: fc.constantFrom('auto', 'standard_only'),
}, { requiredKeys: ['model', 'max_tokens', 'messages'] });

/** A caller of the Anthropic Messages door (x-api-key or Bearer, Anthropic-shaped bodies, hostile values throughout). */
export const messagesCase = (virtualKeys: readonly string[]): fc.Arbitrary<CallerCase> => fc.record({
  path: fc.constantFrom('/v1/messages', '/v1/messages', '/v1/messages', '/v1/messages/count_tokens', '/v1/messages/other'),
  headers: fc.record({
    'content-type': fc.oneof({ weight: 5, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: headerText }),
    'x-api-key': fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...virtualKeys) }, { weight: 1, arbitrary: headerText }),
    authorization: fc.oneof(bearer(virtualKeys), headerText),
    'anthropic-version': fc.oneof(fc.constant('2023-06-01'), headerText),
    ...switchyardHeaders,
    ...forwardedHeaders,
  }, { requiredKeys: ['content-type'] }),
  body: fc.oneof(
    { weight: 5, arbitrary: wellFormedMessagesBody.map((json) => ({ json })) },
    { weight: 5, arbitrary: messagesBody.map((json) => ({ json })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((json) => ({ json })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 100 }).map((raw) => ({ raw })) },
  ),
});

const inputPart = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constantFrom('input_text', 'output_text'), text: fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 1 })) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('input_image'), image_url: hostileText, file_id: hostileText, detail: fc.constantFrom('low', 'high', 'auto', 'x') }, { requiredKeys: ['type'] }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('refusal', 'input_file', 'input_audio', 'weird'), refusal: fc.string({ maxLength: 20 }) }, { requiredKeys: ['type'] }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const inputItem = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constantFrom('message', undefined), role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'developer'), hostileText), content: fc.oneof(fc.string({ maxLength: 60 }), fc.array(inputPart, { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: ['role'] }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('function_call'), call_id: fc.oneof(fc.constant('call_1'), hostileText), name: fc.oneof(fc.constant('lookup'), hostileText), arguments: fc.oneof(fc.constant('{"q":"x"}'), hostileText, fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: ['type'] }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('function_call_output'), call_id: fc.oneof(fc.constant('call_1'), hostileText), output: fc.oneof(fc.string({ maxLength: 30 }), fc.array(inputPart, { maxLength: 2 }), fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: ['type'] }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('reasoning', 'item_reference', 'web_search_call', 'x'), id: hostileText, summary: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['type'] }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const responsesTool = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('function'), name: fc.oneof(fc.constant('lookup'), hostileText), parameters: fc.oneof(fc.constant({ type: 'object' }), fc.jsonValue({ maxDepth: 3 })), strict: fc.jsonValue({ maxDepth: 0 }), description: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: ['type'] }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('web_search', 'file_search', 'code_interpreter', 'mcp', 'x') }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const responsesBody = withProtoFields(fc.record({
  model: modelName,
  input: fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 60 }) }, { weight: 5, arbitrary: fc.array(inputItem, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }),
  instructions: fc.oneof(fc.string({ maxLength: 30 }), fc.jsonValue({ maxDepth: 1 })),
  stream: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
  store: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 0 })),
  previous_response_id: fc.oneof(fc.constant('resp_missing'), hostileText, fc.jsonValue({ maxDepth: 1 })),
  tools: fc.oneof(fc.array(responsesTool, { maxLength: 2 }), fc.jsonValue({ maxDepth: 2 })),
  tool_choice: fc.oneof(fc.constantFrom('auto', 'none', 'required', 'x'), fc.record({ type: fc.constantFrom('function', 'web_search'), name: fc.oneof(fc.constant('lookup'), hostileText) }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 2 })),
  max_output_tokens: fc.oneof(fc.integer({ min: -1, max: 64 }), fc.jsonValue({ maxDepth: 1 })),
  temperature: fc.oneof(fc.double(), fc.jsonValue({ maxDepth: 1 })),
  top_p: fc.oneof(fc.double(), fc.jsonValue({ maxDepth: 0 })),
  text: fc.oneof(fc.record({ format: fc.oneof(fc.record({ type: fc.constantFrom('text', 'json_object', 'json_schema', 'x'), name: hostileText, schema: fc.jsonValue({ maxDepth: 2 }), strict: fc.boolean() }, { requiredKeys: ['type'] }), fc.jsonValue({ maxDepth: 1 })), verbosity: fc.constantFrom('low', 'high') }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 2 })),
  reasoning: fc.oneof(fc.record({ effort: fc.oneof(fc.constantFrom('low', 'medium', 'high'), fc.jsonValue({ maxDepth: 0 })), summary: fc.constantFrom('auto', 'x') }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 1 })),
  metadata: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }), fc.jsonValue({ maxDepth: 2 })),
  truncation: fc.constantFrom('auto', 'disabled', 'x'),
  parallel_tool_calls: fc.jsonValue({ maxDepth: 0 }),
  background: fc.jsonValue({ maxDepth: 0 }),
  include: fc.jsonValue({ maxDepth: 1 }),
  extra: fc.jsonValue({ maxDepth: 2 }),
}, { requiredKeys: [] }));

/** Mostly well-formed Responses requests, so translation, streaming and the stored conversation run too. */
const wellFormedResponsesBody = fc.record({
  model: fc.constantFrom('pa/m', 'pb/m', 'pc/m', 'alias'),
  input: fc.oneof(fc.string({ minLength: 1, maxLength: 60 }), fc.array(fc.oneof(
    fc.record({ role: fc.constantFrom('user', 'developer'), content: fc.string({ minLength: 1, maxLength: 40 }) }),
    fc.record({ type: fc.constant('message'), role: fc.constant('user'), content: fc.array(fc.record({ type: fc.constant('input_text'), text: fc.string({ maxLength: 30 }) }), { minLength: 1, maxLength: 2 }) }),
    fc.constant({ type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' }),
    fc.constant({ type: 'function_call_output', call_id: 'call_1', output: 'found' }),
  ), { minLength: 1, maxLength: 3 })),
  instructions: fc.string({ maxLength: 30 }),
  stream: fc.boolean(),
  store: fc.boolean(),
  tools: fc.constant([{ type: 'function', name: 'lookup', parameters: { type: 'object' } }]),
  tool_choice: fc.constantFrom('auto', 'required', { type: 'function', name: 'lookup' }),
  max_output_tokens: fc.integer({ min: 1, max: 64 }),
  temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  text: fc.constantFrom({ format: { type: 'text' } }, { format: { type: 'json_schema', name: 'x', schema: { type: 'object' } } }),
}, { requiredKeys: ['model', 'input'] });

/** A caller of the OpenAI Responses door (Bearer), and the routes that read or delete a stored response by a hostile id. */
export const responsesCase = (virtualKeys: readonly string[]): fc.Arbitrary<CallerCase> => fc.oneof(
  { weight: 8, arbitrary: fc.record({
    path: fc.constantFrom('/v1/responses', '/v1/responses', '/v1/Responses/'),
    headers: fc.record({
      'content-type': fc.oneof({ weight: 5, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: headerText }),
      authorization: fc.oneof({ weight: 6, arbitrary: bearer(virtualKeys) }, { weight: 1, arbitrary: headerText }),
      'content-encoding': fc.constantFrom('identity', 'gzip', 'nonsense'),
      ...switchyardHeaders,
      ...forwardedHeaders,
    }, { requiredKeys: ['content-type'] }),
    body: fc.oneof(
      { weight: 5, arbitrary: wellFormedResponsesBody.map((json) => ({ json })) },
      { weight: 5, arbitrary: responsesBody.map((json) => ({ json })) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((json) => ({ json })) },
      { weight: 1, arbitrary: fc.string({ maxLength: 100 }).map((raw) => ({ raw })) },
    ),
  }) },
  { weight: 1, arbitrary: fc.record({
    method: fc.constantFrom('GET', 'DELETE'),
    path: fc.tuple(fc.constantFrom('/v1/responses/', '/v1/models/', '/v1/responses/resp_'), fc.oneof(hostileText, fc.constantFrom('%', '%ZZ', '%E0%A4%A', '%00', '..%2F..%2Fadmin', 'x'.repeat(3000)))).map(([p, id]) => p + encodeURI(id.replace(/[\ud800-\udfff]/g, '_')).replace(/%25/g, '%')),
    headers: bearer(virtualKeys).map((authorization) => ({ authorization })),
    body: fc.constant({ raw: '' }),
  }) },
);

const chunkJson = (content: string): string =>
  JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] });

const toolDelta = fc.record({
  index: fc.oneof(fc.constantFrom(0, 0, 1), fc.jsonValue({ maxDepth: 0 }), fc.constant(1e9)),
  id: fc.oneof(fc.constant('call_1'), fc.jsonValue({ maxDepth: 0 })),
  type: fc.constantFrom('function', 'x'),
  function: fc.oneof(fc.record({ name: fc.oneof(fc.constant('lookup'), fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 0 })), arguments: fc.oneof(fc.constantFrom('{"q":', '"x"}', '', '{}'), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 1 })),
}, { requiredKeys: [] });

/** A streamed tool call, well-formed or not: its id, name and argument pieces spread over chunks, with a finish reason. */
const toolCallChunk = fc.tuple(fc.array(toolDelta, { minLength: 1, maxLength: 2 }), fc.constantFrom(null, null, 'tool_calls', 'stop', 'length', 'x'))
  .map(([calls, finish]) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: calls }, finish_reason: finish }] })}\n\n`);

/**
 * An error body in the words the failure classifier reads (src/providers/failure.ts): its types and codes, numeric codes,
 * header-mismatch codes, names every object has, and rate-limit messages over or within the limit.
 */
export const classifiedError = fc.record({
  type: fc.oneof(fc.constantFrom('invalid_request_error', 'authentication_error', 'permission_error', 'rate_limit_error', 'not_found_error', 'server_error', 'BadRequestError', 'request_too_large'), protoName),
  code: fc.oneof(
    fc.constantFrom('mismatched_organization', 'mismatched_project', 'MISMATCHED_ORGANIZATION', 'model_not_found', 'invalid_api_key', 'rate_limit_exceeded', 'insufficient_quota', 'context_length_exceeded', null),
    fc.constantFrom('invalid_organization', 'no_organization', 'invalid_project'),
    protoName, fc.constantFrom(400, 401, 404, 413, 429, 503, 999, '429', ' 401 ', '4e2', -1),
  ),
  message: fc.oneof(
    fc.tuple(fc.nat({ max: 60_000 }), fc.nat({ max: 60_000 })).map(([limit, requested]) => `Request too large for m in organization org-x on tokens per min (TPM): Limit ${limit.toLocaleString('en-US')}, Requested ${requested}. sk-leaked-0123456789abcdef`),
    fc.constant('Rate limit reached: Limit 30000, Used 28000, Requested 6000.'),
    fc.constant('OpenAI-Organization header should match organization for API key'),
    fc.constantFrom('No such organization: org-x.', 'You must be a member of an organization to use the API.', 'Project `proj_x` does not exist or you do not have access to it.'),
    fc.string({ maxLength: 30 }),
  ),
}, { requiredKeys: [] });

/** One broken (or fine) SSE body. */
const sseBody = fc.array(fc.oneof(
  fc.string({ maxLength: 20 }).map((t) => `data: ${chunkJson(t)}\n\n`),
  toolCallChunk,
  fc.constant('data: [DONE]\n\n'),
  fc.string({ maxLength: 40 }).map((t) => `data: ${t}\n\n`),
  fc.jsonValue({ maxDepth: 3 }).map((v) => `data: ${JSON.stringify(v)}\n\n`),
  fc.string({ maxLength: 40 }).map((t) => `event: error\ndata: {"error":{"message":${JSON.stringify(t + ' sk-leaked-0123456789abcdef')}}}\n\n`),
  classifiedError.map((error) => `data: ${JSON.stringify({ error })}\n\n`),
  fc.constant(`data: ${'x'.repeat(200_000)}`),
  fc.string({ maxLength: 30 }),
  fc.constant(': keep-alive\n\n'),
), { maxLength: 6 });

const jsonBody = fc.oneof(
  fc.constant(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] })),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 100 }),
  fc.constant('{"choices": [{"message": '),
  fc.string({ maxLength: 60 }).map((t) => JSON.stringify({ error: { message: `${t} key pa-upstream-secret-9f3c2 failed`, type: 'server_error' } })),
  classifiedError.map((error) => JSON.stringify({ error })),
);

export const upstreamReply: fc.Arbitrary<ScriptedReply> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    status: fc.constantFrom(200, 200, 200, 400, 401, 402, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529),
    headers: fc.record({
      'content-type': fc.constantFrom('application/json', 'text/event-stream', 'text/html', 'text/plain', 'application/octet-stream'),
      'retry-after': fc.constantFrom('0', '1', '5', 'Wed, 21 Oct 2015 07:28:00 GMT', 'soon', '99999999'),
    }, { requiredKeys: ['content-type'] }),
    chunks: fc.oneof(sseBody, jsonBody.map((b) => [b])),
    gapMs: fc.constantFrom(0, 0, 0, 5, 30),
    reset: fc.boolean(),
  }, { requiredKeys: ['status', 'headers', 'chunks'] }) },
  // The statuses whose meaning depends on the words (a credential, a header, a model, a limit the request alone exceeds).
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(401, 403, 429, 200), classifiedError).map(([status, error]): ScriptedReply => ({ status, headers: { 'content-type': 'application/json' }, chunks: [JSON.stringify({ error })] })) },
  { weight: 1, arbitrary: fc.constant<ScriptedReply>({ hang: true }) },
  // Headers and a start, then silence: the gateway's deadlines must end the reply, in the caller's protocol.
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('text/event-stream', 'application/json'), fc.array(fc.oneof(fc.string({ maxLength: 20 }).map((t) => `data: ${chunkJson(t)}\n\n`), toolCallChunk), { maxLength: 2 }))
    .map(([type, chunks]) => ({ status: 200, headers: { 'content-type': type }, chunks: type === 'application/json' ? ['{"id":"x","choices":['] : chunks, stall: true })) },
  { weight: 1, arbitrary: fc.constant<ScriptedReply>({ reset: true }) },
);

/** A well-formed OpenAI reply an upstream drips out over `gapMs` per piece: a stream's chunks, or a JSON body in three pieces. */
const drippedReply = (stream: boolean, gapMs: number, pieces: string[]): ScriptedReply => {
  if (!stream) {
    const body = JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: pieces.join('') }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: pieces.length, total_tokens: 3 + pieces.length } });
    const third = Math.ceil(body.length / 3);
    return { status: 200, headers: { 'content-type': 'application/json' }, chunks: [body.slice(0, third), body.slice(third, 2 * third), body.slice(2 * third)], gapMs };
  }
  const last = JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: pieces.length, total_tokens: 3 + pieces.length } });
  return { status: 200, headers: { 'content-type': 'text/event-stream' }, chunks: [...pieces.map((t) => `data: ${chunkJson(t)}\n\n`), `data: ${last}\n\n`, 'data: [DONE]\n\n'], gapMs };
};

/** One tenant's request while server.max_in_flight is low: its key, door and mode, an upstream dripping a fine reply, and a client that may leave mid-reply. */
export interface AdmissionCase {
  /** Index of the tenant's virtual key. */
  key: number;
  door: 'chat' | 'messages' | 'responses';
  stream: boolean;
  reply: ScriptedReply;
  /** The client aborts this long after sending (before, while or after it is admitted, mid-reply); undefined: it reads the reply. */
  leaveAfterMs: number | undefined;
}

export const admissionCase = (keys: number): fc.Arbitrary<AdmissionCase> => fc.record({
  key: fc.nat({ max: keys - 1 }),
  door: fc.constantFrom<AdmissionCase['door']>('chat', 'chat', 'messages', 'responses'),
  stream: fc.boolean(),
  // Long enough that a batch's requests overlap, so some meet the bound.
  gapMs: fc.constantFrom(5, 20, 40),
  pieces: fc.array(fc.string({ maxLength: 12 }), { minLength: 2, maxLength: 4 }),
  leaveAfterMs: fc.option(fc.integer({ min: 0, max: 80 }), { freq: 3 }),
}).map(({ key, door, stream, gapMs, pieces, leaveAfterMs }) => ({ key, door, stream, reply: drippedReply(stream, gapMs, pieces), leaveAfterMs: leaveAfterMs ?? undefined }));

const anthropicEvent = (type: string, fields: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
const blockIndex = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) });

/** One Anthropic Messages event, well-formed or not: every event kind, hostile values inside, raw junk between. */
const anthropicFrame = fc.oneof(
  fc.constant(anthropicEvent('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model: 'm', stop_reason: null, usage: { input_tokens: 3, output_tokens: 1 } } })),
  fc.jsonValue({ maxDepth: 2 }).map((message) => anthropicEvent('message_start', { message })),
  fc.tuple(blockIndex, fc.oneof(
    fc.constant({ type: 'text', text: '' }),
    fc.record({ type: fc.constant('tool_use'), id: fc.oneof(fc.constant('toolu_1'), fc.jsonValue({ maxDepth: 0 })), name: fc.oneof(fc.constant('lookup'), fc.string({ maxLength: 10 })), input: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: ['type'] }),
    fc.constantFrom({ type: 'thinking', thinking: '' }, { type: 'redacted_thinking', data: 'x' }, { type: 'server_tool_use', id: 's', name: 'web_search', input: {} }, { type: 'weird' }),
  )).map(([index, content_block]) => anthropicEvent('content_block_start', { index, content_block })),
  fc.tuple(blockIndex, fc.oneof(
    fc.string({ maxLength: 20 }).map((text) => ({ type: 'text_delta', text })),
    fc.constantFrom('{"q":', '"x"}', '', '{}', 'not json').map((partial_json) => ({ type: 'input_json_delta', partial_json })),
    fc.string({ maxLength: 10 }).map((thinking) => ({ type: 'thinking_delta', thinking })),
    fc.constant({ type: 'signature_delta', signature: 'sig' }),
    fc.jsonValue({ maxDepth: 2 }),
  )).map(([index, delta]) => anthropicEvent('content_block_delta', { index, delta })),
  blockIndex.map((index) => anthropicEvent('content_block_stop', { index })),
  fc.tuple(fc.constantFrom('end_turn', 'max_tokens', 'tool_use', 'stop_sequence', 'refusal', 'pause_turn', 'x', null), fc.oneof(fc.constant({ output_tokens: 5 }), fc.jsonValue({ maxDepth: 1 })))
    .map(([stop_reason, usage]) => anthropicEvent('message_delta', { delta: { stop_reason, stop_sequence: null }, usage })),
  fc.constant(anthropicEvent('message_stop', {})),
  fc.constant(anthropicEvent('ping', {})),
  fc.string({ maxLength: 30 }).map((t) => anthropicEvent('error', { error: { type: 'overloaded_error', message: `${t} sk-leaked-0123456789abcdef` } })),
  fc.string({ maxLength: 30 }).map((t) => `event: ${t}\ndata: ${t}\n\n`),
  fc.constant(`event: content_block_delta\ndata: ${'x'.repeat(200_000)}`),
  fc.string({ maxLength: 30 }),
);

/**
 * A broken upstream's reply: `status`, a content type, the body as `chunks`, now and then slow, cut (reset) or stalled,
 * or no reply at all (a hang or a reset before the headers).
 */
const brokenReply = (statuses: number[], contentTypes: string[], chunks: fc.Arbitrary<string[]>): fc.Arbitrary<ScriptedReply> => fc.oneof(
  { weight: 6, arbitrary: fc.record({
    status: fc.constantFrom(...statuses),
    headers: fc.record({ 'content-type': fc.constantFrom(...contentTypes), 'retry-after': fc.constantFrom('0', '1', 'soon') }, { requiredKeys: ['content-type'] }),
    chunks,
    gapMs: fc.constantFrom(0, 0, 5),
    reset: fc.boolean(),
    // Rarely: each stall holds its batch until the upstream's deadline.
    stall: fc.constantFrom(false, false, false, false, false, false, false, true),
  }, { requiredKeys: ['status', 'headers', 'chunks'] }) },
  { weight: 1, arbitrary: fc.constantFrom<ScriptedReply>({ hang: true }, { reset: true }) },
);

/** What a broken Anthropic upstream sends: an event stream, a Message or junk, with any status, slow, stalled or cut. */
export const anthropicUpstreamReply: fc.Arbitrary<ScriptedReply> = brokenReply(
  [200, 200, 200, 400, 401, 404, 413, 429, 500, 529],
  ['text/event-stream', 'application/json', 'text/html'],
  fc.oneof(
    fc.array(anthropicFrame, { maxLength: 8 }),
    fc.oneof(
      fc.constant(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 1 } })),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 60 }).map((t) => JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `${t} pc-upstream-secret-0b7e6` } })),
      classifiedError.map((error) => JSON.stringify({ type: 'error', error })),
    ).map((b) => [b]),
  ),
);

export const slowHeadersReply: fc.Arbitrary<ScriptedReply> = fc.integer({ min: 350, max: 450 }).map((delayMs) => ({
  delayMs, status: 200, headers: { 'content-type': 'application/json' },
  chunks: [JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'late' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 1 } })],
}));

/**
 * Config file texts: valid variations (which must apply), broken ones (which must be refused), and files cut short
 * (`valid` undefined: a cut at a line end may still be a valid, smaller config).
 */
export const configText = (valid: (models: string[]) => string): fc.Arbitrary<{ text: string; valid: boolean | undefined }> => fc.oneof(
  fc.subarray(['m', 'm2', 'm3']).map((models) => ({ text: valid(['m', ...models.filter((x) => x !== 'm')]), valid: true })),
  fc.constantFrom('', '\n', '# nothing\n', '---\n', '[]\n', 'null\n', '"just a string"\n').map((text) => ({ text, valid: false })),
  fc.string({ maxLength: 200 }).map((t) => ({ text: `server:\n  port: 8080\n${t}\n  host: "x\n`, valid: false })),
  fc.nat({ max: 2000 }).map((n) => ({ text: valid(['m']).slice(0, Math.max(1, valid(['m']).length - 1 - n)), valid: undefined })),
  fc.constantFrom('rules:\n  - name: x\n    cel_expression: "model =="\n    targets: [{ provider: pa, model: m }]\n', 'providers: 7\n', 'server: { admin_key: short }\n').map((extra) => ({ text: `${valid(['m'])}\n${extra}`, valid: false })),
);

/** A request written byte by byte on a socket: its header lines as given (repeats, raw UTF-8, folds), its body, maybe cut. */
export interface RawCase {
  door: 'chat' | 'messages' | 'responses';
  lines: string[];
  body: Buffer;
  /** Content-Length promises more than is sent and the client goes away: no reply is expected. */
  cut: boolean;
}

const DOOR_PATHS = { chat: '/v1/chat/completions', messages: '/v1/messages', responses: '/v1/responses' } as const;
const doorBody = (door: RawCase['door']): string => JSON.stringify(
  door === 'chat' ? { model: 'pa/m', messages: [{ role: 'user', content: 'raw' }] }
    : door === 'messages' ? { model: 'pa/m', max_tokens: 8, messages: [{ role: 'user', content: 'raw' }] }
      : { model: 'pa/m', input: 'raw' });

/** Header lines beyond the request's own: repeated, non-ASCII, huge, many, folded or conflicting. */
const oddHeaders = (virtualKey: string): fc.Arbitrary<string[]> => fc.array(fc.oneof(
  fc.constantFrom(`Authorization: Bearer ${virtualKey}`, 'Authorization: Bearer sk-sy-other', `x-api-key: ${virtualKey}`, 'x-api-key: nope',
    'Content-Type: text/plain', 'Content-Type: application/json', 'x-request-id: a', 'x-request-id: b', 'x-switchyard-cache: bypass',
    'x-switchyard-cache: refresh', 'anthropic-version: 2023-06-01', 'Transfer-Encoding: chunked', 'Content-Length: 3', ' folded-continuation',
    'X-Bad\u0000Name: x', 'Expect: 100-continue', 'Expect: nonsense', 'Host: other'),
  hostileText.map((t) => `x-request-id: ${t}`),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map((t) => `x-switchyard-cache-ttl: ${t}`),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => `x-padding: ${'p'.repeat(n)}`),
  fc.integer({ min: 50, max: 300 }).map((n) => Array.from({ length: n }, (_, i) => `x-h${i}: v`).join('\r\n')),
), { maxLength: 4 });

/** 64 MB of spaces gzipped to ~64 KB: more than the body limit once inflated. */
let bomb: Buffer | undefined;
const gzipBomb = (): Buffer => (bomb ??= gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)));

export const rawCase = (virtualKey: string): fc.Arbitrary<RawCase> => fc.record({
  door: fc.constantFrom<RawCase['door']>('chat', 'chat', 'messages', 'responses'),
  extra: oddHeaders(virtualKey),
  encoding: fc.constantFrom('none', 'none', 'gzip', 'gzip-bomb', 'gzip-cut'),
  cut: fc.boolean(),
}).map(({ door, extra, encoding, cut }) => {
  const text = Buffer.from(doorBody(door));
  const body = encoding === 'gzip' ? gzipSync(text) : encoding === 'gzip-bomb' ? gzipBomb() : encoding === 'gzip-cut' ? gzipSync(text).subarray(0, 12) : text;
  const lines = [`POST ${DOOR_PATHS[door]} HTTP/1.1`, 'Host: gateway', 'Content-Type: application/json', `Authorization: Bearer ${virtualKey}`,
    ...(door === 'messages' ? [`x-api-key: ${virtualKey}`] : []), ...(encoding === 'none' ? [] : ['Content-Encoding: gzip']), ...extra,
    `Content-Length: ${body.length + (cut ? 100 : 0)}`, 'Connection: close'];
  return { door, lines, body, cut };
});

/** One Responses API event's type and fields (numbered by its place when the stream is put together). */
type ResponsesEvent = readonly [string, Record<string, unknown>];

const outputItem = fc.oneof(
  fc.constant({ type: 'message', id: 'msg_1', role: 'assistant', content: [{ type: 'output_text', text: 'ok', annotations: [] }] }),
  fc.record({ type: fc.constant('function_call'), id: fc.constant('fc_1'), call_id: fc.oneof(fc.constant('call_1'), fc.jsonValue({ maxDepth: 0 })), name: fc.oneof(fc.constant('lookup'), fc.string({ maxLength: 10 })), arguments: fc.oneof(fc.constantFrom('{"q":"x"}', '', 'not json'), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: ['type'] }),
  fc.constantFrom({ type: 'reasoning', id: 'rs_1', summary: [] }, { type: 'reasoning', id: 'rs_2', summary: [], encrypted_content: 'enc' }, { type: 'web_search_call', id: 'ws_1', status: 'completed' }, { type: 'weird' }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** A Response object as an upstream ends a stream with or answers a JSON call: whole, hostile in its ids and usage, or junk. */
const upstreamResponse = fc.record({
  id: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('resp_up_1', 'resp_up_2') }, { weight: 1, arbitrary: hostileText }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) }),
  object: fc.oneof({ weight: 6, arbitrary: fc.constant('response') }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) }),
  model: fc.constant('me'),
  status: fc.constantFrom('completed', 'incomplete', 'failed', 'in_progress', 'x'),
  incomplete_details: fc.oneof(fc.constant(null), fc.record({ reason: fc.constantFrom('max_output_tokens', 'content_filter') }), fc.jsonValue({ maxDepth: 1 })),
  output: fc.oneof({ weight: 5, arbitrary: fc.array(outputItem, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }),
  usage: fc.oneof(fc.constant({ input_tokens: 3, output_tokens: 1, total_tokens: 4 }), fc.jsonValue({ maxDepth: 2 })),
  error: fc.oneof(fc.constant(null), classifiedError),
}, { requiredKeys: ['id', 'object', 'output'] });

const responsesEvent: fc.Arbitrary<ResponsesEvent> = fc.oneof(
  fc.constant<ResponsesEvent>(['response.created', { response: { id: 'resp_up_1', object: 'response', model: 'me', status: 'in_progress', output: [] } }]),
  fc.jsonValue({ maxDepth: 2 }).map((response): ResponsesEvent => ['response.created', { response }]),
  fc.constant<ResponsesEvent>(['response.in_progress', { response: { id: 'resp_up_1', object: 'response', status: 'in_progress', output: [] } }]),
  fc.tuple(fc.oneof(fc.constantFrom(0, 1), fc.jsonValue({ maxDepth: 0 })), outputItem).map(([output_index, item]): ResponsesEvent => ['response.output_item.added', { output_index, item }]),
  fc.tuple(fc.oneof(fc.constantFrom(0, 1), fc.jsonValue({ maxDepth: 0 })), outputItem).map(([output_index, item]): ResponsesEvent => ['response.output_item.done', { output_index, item }]),
  fc.constant<ResponsesEvent>(['response.content_part.added', { item_id: 'msg_1', output_index: 0, content_index: 0, part: { type: 'output_text', text: '' } }]),
  fc.tuple(fc.constantFrom('response.output_text.delta', 'response.refusal.delta', 'response.reasoning_summary_text.delta', 'response.function_call_arguments.delta'), fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 1 })), fc.oneof(fc.constantFrom(0, 1), fc.jsonValue({ maxDepth: 0 })))
    .map(([type, delta, output_index]): ResponsesEvent => [type, { item_id: 'msg_1', output_index, content_index: 0, delta }]),
  fc.tuple(fc.constantFrom('response.completed', 'response.incomplete'), upstreamResponse).map(([type, response]): ResponsesEvent => [type, { response }]),
  classifiedError.map((error): ResponsesEvent => ['response.failed', { response: { id: 'resp_up_1', object: 'response', status: 'failed', output: [], error: { ...error, message: `${String(error.message)} sk-leaked-0123456789abcdef` } } }]),
  fc.string({ maxLength: 30 }).map((t): ResponsesEvent => ['error', { code: 'server_error', message: `${t} sk-leaked-0123456789abcdef`, param: null }]),
  fc.constantFrom<ResponsesEvent>(['response.web_search_call.in_progress', { output_index: 0, item_id: 'ws_1' }], ['response.output_text.annotation.added', { annotation: {} }], ['response.new_kind', {}]),
);

/**
 * One SSE frame of a Responses stream: an event (numbered by its place among the events; now and then under another
 * event's name), or what is not one — an object with no type (under no event name, or under an event's), JSON that is not
 * an object, text that is not JSON, a huge line, junk.
 */
type ResponsesFrame = { event: ResponsesEvent; name?: string } | { junk: string };
const responsesFrame: fc.Arbitrary<ResponsesFrame> = fc.oneof(
  { weight: 8, arbitrary: responsesEvent.map((event) => ({ event })) },
  { weight: 1, arbitrary: fc.tuple(responsesEvent, fc.constantFrom('response.created', 'response.completed', 'error', 'x')).map(([event, name]) => ({ event, name })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('', 'event: response.output_text.delta\n', 'event: message\n'), fc.dictionary(fc.string({ maxLength: 6 }).filter((k) => k !== 'type'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }))
    .map(([name, v]) => ({ junk: `${name}data: ${JSON.stringify(v)}\n\n` })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => ({ junk: `data: ${JSON.stringify(v)}\n\n` })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((t) => ({ junk: `event: ${t.replace(/[\r\n]/g, '')}\ndata: ${t.replace(/[\r\n]/g, '')}\n\n` })) },
  { weight: 1, arbitrary: fc.constant({ junk: `event: response.output_text.delta\ndata: ${'x'.repeat(200_000)}` }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((junk) => ({ junk })) },
);

/** Frames as an upstream writes them: its events numbered 0, 1, … in order, whatever junk lies between. */
const numbered = (frames: readonly ResponsesFrame[]): string[] => {
  let n = 0;
  return frames.map((f) => ('junk' in f ? f.junk : `event: ${f.name ?? f.event[0]}\ndata: ${JSON.stringify({ type: f.event[0], ...f.event[1], sequence_number: n++ })}\n\n`));
};

/** A well-formed Responses stream (text, or a function call), so the success paths run as often as the broken ones. */
const wellFormedResponsesStream = fc.tuple(fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 3 }), fc.boolean()).map(([pieces, call]): string[] => {
  const events: ResponsesEvent[] = [
    ['response.created', { response: { id: 'resp_up_1', object: 'response', model: 'me', status: 'in_progress', output: [] } }],
    ['response.output_item.added', { output_index: 0, item: call ? { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'lookup', arguments: '' } : { type: 'message', id: 'msg_1', role: 'assistant', content: [] } }],
    ...pieces.map((delta): ResponsesEvent => [call ? 'response.function_call_arguments.delta' : 'response.output_text.delta', { item_id: call ? 'fc_1' : 'msg_1', output_index: 0, content_index: 0, delta }]),
    ['response.output_item.done', { output_index: 0, item: call ? { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'lookup', arguments: pieces.join('') } : { type: 'message', id: 'msg_1', role: 'assistant', content: [{ type: 'output_text', text: pieces.join(''), annotations: [] }] } }],
    ['response.completed', { response: { id: 'resp_up_1', object: 'response', model: 'me', status: 'completed', output: [], usage: { input_tokens: 3, output_tokens: pieces.length, total_tokens: 3 + pieces.length } } }],
  ];
  return events.map(([type, fields], i) => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: i })}\n\n`);
});

/** What a broken Responses API upstream (`responses: true`) sends: an event stream, a Response or junk, with any status, slow, stalled or cut. */
export const responsesUpstreamReply: fc.Arbitrary<ScriptedReply> = brokenReply(
  [200, 200, 200, 400, 401, 404, 429, 500],
  ['text/event-stream', 'text/event-stream', 'application/json', 'text/html'],
  fc.oneof(
    fc.array(responsesFrame, { maxLength: 8 }).map(numbered),
    wellFormedResponsesStream,
    fc.oneof(
      upstreamResponse.map((r) => JSON.stringify(r)),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      classifiedError.map((error) => JSON.stringify({ error })),
      fc.string({ maxLength: 60 }),
    ).map((b) => [b]),
  ),
);
