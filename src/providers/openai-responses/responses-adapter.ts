/**
 * An OpenAI provider that speaks the Responses API (`responses: true`): chat requests are sent to `{base_url}/responses`
 * as Responses requests and the replies come back as the internal chat format, so every stage — cache, governance,
 * cascades — and every inbound protocol work with it unchanged. A Responses caller's own request, when no stage rewrote it,
 * is sent as the caller wrote it and the upstream's bytes are kept beside the internal reply (pass-through). Chat only
 * (completions and embeddings stay on providers without the option).
 */
import type { AdapterOptions } from '../adapters.js';
import { ACCOUNT_HEADERS, unexpectedReply, upstreamPolicy } from '../failure.js';
import { postForJson } from '../http.js';
import { postForStream } from '../stream-call.js';
import { cleanHeaders } from '../openai/openai-compatible-adapter.js';
import { readUsage } from '../openai/read-usage.js';
import { startStream } from '../openai/start-stream.js';
import type { ProviderSettings } from '../settings.js';
import { parseSse } from '../sse.js';
import type { Operation, ProviderAdapter, ProviderReply, UpstreamRequest } from '../types.js';
import { buildResponsesRequest } from './build-responses-request.js';
import { chatCompletionOf } from './convert-responses-reply.js';
import { responsesStreamParts } from './responses-stream.js';

const CHAT_ONLY: ReadonlySet<Operation> = new Set<Operation>(['chat']);
const PROTOCOL = 'openai.responses';

/**
 * The caller's own Responses request (as the edge prepared it: its previous_response_id already expanded, `store: false`)
 * with the routed model and the stream flag the call uses.
 */
function nativeRequest(body: Readonly<Record<string, unknown>>, model: string, stream: boolean): Record<string, unknown> {
  const { stream: _stream, ...rest } = body;
  return stream ? { ...rest, model, stream: true } : { ...rest, model };
}

export function createOpenAIResponsesAdapter(settings: ProviderSettings, opts: AdapterOptions = {}): ProviderAdapter {
  const url = `${settings.base_url.replace(/\/+$/, '')}/responses`;
  const staticHeaders = cleanHeaders(settings.headers, ['authorization']);
  const policy = upstreamPolicy(settings.name, opts.nonRetryable, opts.redact, Object.keys(staticHeaders), ACCOUNT_HEADERS);

  async function call(req: UpstreamRequest): Promise<ProviderReply> {
    // A caller that spoke the Responses API is sent its own request (full fidelity); anyone else's is translated.
    const native = req.native?.protocol === PROTOCOL ? req.native : undefined;
    const { request, warnings } = native !== undefined
      ? { request: nativeRequest(native.body, req.model, req.stream), warnings: [] }
      : buildResponsesRequest(req.body, req.model, req.stream);
    const headers: Record<string, string> = { ...cleanHeaders(req.headers, ['authorization']), ...staticHeaders, authorization: `Bearer ${req.apiKey}` };
    if (req.stream) headers.accept = 'text/event-stream';
    const post = {
      policy, headers, body: JSON.stringify(request), timeoutMs: req.timeoutMs > 0 ? req.timeoutMs : settings.timeout_ms, onHeaders: req.onHeaders,
    };
    if (!req.stream) {
      const { status, raw, json } = await postForJson(url, { ...post, signal: req.abort });
      if (json.object !== 'response' || !Array.isArray(json.output)) throw unexpectedReply(policy, json, 'an OpenAI Responses response');
      const body = chatCompletionOf(json);
      return {
        kind: 'json', status, body, usage: readUsage(body.usage),
        ...(native !== undefined ? { native: { protocol: PROTOCOL, raw } } : {}),
        ...(warnings.length > 0 ? { warnings } : {}),
      };
    }
    const res = await postForStream(url, { ...post, signal: req.abort });
    const askedUsage = (req.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const parts = responsesStreamParts(parseSse(res.body), !askedUsage, policy.redact, native !== undefined);
    const reply = await startStream(policy, res.status, parts, req.abort, (clean) => res.body.release(clean), post.headers);
    if (native !== undefined) reply.native = PROTOCOL;
    return warnings.length > 0 ? { ...reply, warnings } : reply;
  }

  return { kind: 'openai', supports: CHAT_ONLY, speaks: PROTOCOL, call };
}
