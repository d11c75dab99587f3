/**
 * Anthropic: OpenAI chat completions served by the Messages API (`POST {base_url}/messages`, `x-api-key`,
 * `anthropic-version`). Requests and replies are translated both ways; parameters that cannot be honoured are reported in
 * the reply's `warnings`. Completions and embeddings are not offered by this provider kind.
 */
import { GatewayError } from '../../errors.js';
import type { AdapterOptions } from '../adapters.js';
import { unexpectedReply, unreadableReply, upstreamPolicy } from '../failure.js';
import { postForJson } from '../http.js';
import { postForStream } from '../stream-call.js';
import { cleanHeaders } from '../openai/openai-compatible-adapter.js';
import { startStream } from '../openai/start-stream.js';
import type { ProviderSettings } from '../settings.js';
import { parseSse } from '../sse.js';
import type { Operation, ProviderAdapter, ProviderReply, UpstreamRequest } from '../types.js';
import type { AnthropicResponse } from './anthropic-api.js';
import { anthropicStreamParts } from './anthropic-stream.js';
import { buildAnthropicRequest } from './build-anthropic-request.js';
import { convertAnthropicResponse } from './convert-anthropic-response.js';

export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

/** A provider reply with the parameters the provider could not honour. */

const CHAT_ONLY: ReadonlySet<Operation> = new Set<Operation>(['chat']);
const AUTH_HEADERS = ['x-api-key', 'authorization', 'anthropic-version'];

/** The caller's own Messages request with the routed model and the stream flag the call uses. */
function nativeRequest(body: Readonly<Record<string, unknown>>, model: string, stream: boolean): Record<string, unknown> {
  const { stream: _stream, ...rest } = body;
  return stream ? { ...rest, model, stream: true } : { ...rest, model };
}

export function createAnthropicAdapter(settings: ProviderSettings, opts: AdapterOptions = {}): ProviderAdapter {
  const name = settings.name;
  const policy = upstreamPolicy(name, opts.nonRetryable, opts.redact);
  const url = `${settings.base_url.replace(/\/+$/, '')}/messages`;
  const version = settings.anthropic_version ?? DEFAULT_ANTHROPIC_VERSION;
  const defaultMaxTokens = settings.default_max_tokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS;
  const staticHeaders = cleanHeaders(settings.headers, AUTH_HEADERS);

  async function call(req: UpstreamRequest): Promise<ProviderReply> {
    if (req.op !== 'chat') {
      throw new GatewayError({
        status: 400, message: `Provider ${name} (anthropic) does not serve ${req.op} requests`, type: 'invalid_request_error',
        code: 'unsupported_operation', failure: 'model_unavailable',
      });
    }
    // A caller that spoke the Messages API is sent its own request (full fidelity); anyone else's is translated.
    const native = req.native?.protocol === 'anthropic.messages' ? req.native : undefined;
    const { request, warnings } = native !== undefined
      ? { request: nativeRequest(native.body, req.model, req.stream), warnings: [] }
      : buildAnthropicRequest(req.body, { model: req.model, stream: req.stream, defaultMaxTokens });
    const headers: Record<string, string> = {
      ...cleanHeaders(req.headers, AUTH_HEADERS), ...staticHeaders, 'x-api-key': req.apiKey, 'anthropic-version': version,
    };
    if (req.stream) headers.accept = 'text/event-stream';
    const post = {
      policy, headers, body: JSON.stringify(request),
      timeoutMs: req.timeoutMs > 0 ? req.timeoutMs : settings.timeout_ms, onHeaders: req.onHeaders,
    };
    let reply: ProviderReply;
    if (!req.stream) {
      const { status, raw, json } = await postForJson(url, { ...post, signal: req.abort });
      if (!Array.isArray(json.content)) throw unexpectedReply(policy, json, 'a Messages response');
      let converted: ReturnType<typeof convertAnthropicResponse>;
      try {
        converted = convertAnthropicResponse(json as unknown as AnthropicResponse);
      } catch (err) {
        throw unreadableReply(policy, 'a reply that is not a Messages response', err);
      }
      reply = { kind: 'json', status, body: converted.body, usage: converted.usage };
      if (native !== undefined) reply.native = { protocol: native.protocol, raw };
    } else {
      const includeUsage = (req.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
      const res = await postForStream(url, { ...post, signal: req.abort });
      reply = await startStream(policy, res.status, anthropicStreamParts(parseSse(res.body), includeUsage, req.model, policy.redact, native !== undefined), req.abort, (clean) => res.body.release(clean), post.headers);
      if (native !== undefined) reply.native = native.protocol;
    }
    if (warnings.length > 0) reply.warnings = warnings;
    return reply;
  }

  return { kind: 'anthropic', supports: CHAT_ONLY, speaks: 'anthropic.messages', call };
}
