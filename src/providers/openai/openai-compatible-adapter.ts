/**
 * The one base for OpenAI-compatible upstreams (OpenAI itself, vLLM, Ollama, Groq, Azure OpenAI, ...). A variant supplies
 * only its URL scheme and its authentication header; the body is passed through as given, serialised once; JSON replies
 * keep the upstream bytes; streams are parsed into parts.
 */
import { ACCOUNT_HEADERS, unexpectedReply, upstreamPolicy } from '../failure.js';
import { postForJson } from '../http.js';
import { postForStream } from '../stream-call.js';
import type { Redact } from '../redact.js';
import { ssePartSource } from '../sse-parts.js';
import type { Operation, ProviderAdapter, ProviderReply, UpstreamRequest } from '../types.js';
import { OpenAIEventReader } from './openai-stream.js';
import { readUsage } from './read-usage.js';
import { startStream } from './start-stream.js';

export interface OpenAICompatibleVariant {
  kind: string;
  /** Provider name for messages and metrics. */
  name: string;
  timeoutMs: number;
  /** Static headers sent on every call. */
  headers?: Record<string, string>;
  nonRetryable?: ReadonlySet<number>;
  /** Sanitises upstream text (error messages) before it goes anywhere. */
  redact?: Redact;
  /** The endpoint URL for an operation and upstream model. */
  url(op: Operation, model: string): string;
  /** Header names this variant authenticates with (lower case); forwarded or static headers never override them. */
  authHeaderNames: readonly string[];
  /** The authentication header(s) for one key. */
  auth(apiKey: string): Record<string, string>;
  /** Ask for usage on every stream (see ProviderSettings.stream_usage); default true. */
  streamUsage?: boolean;
}

const clientAskedUsage = (body: Readonly<Record<string, unknown>>): boolean =>
  (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;

export const OPENAI_PATHS: Readonly<Record<Operation, string>> = Object.freeze({
  chat: 'chat/completions',
  completion: 'completions',
  embedding: 'embeddings',
});

const ALL_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>(['chat', 'completion', 'embedding']);

/** Headers the HTTP client sets itself; never forwarded. */
const TRANSPORT_HEADERS: readonly string[] = ['content-type', 'content-length', 'host', 'connection', 'transfer-encoding'];

/** Lower-cases header names and drops those in `drop` and the transport headers. */
export function cleanHeaders(headers: Record<string, string> | undefined, drop: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  for (const [k, v] of Object.entries(headers)) {
    const key = k.toLowerCase();
    if (!drop.includes(key) && !TRANSPORT_HEADERS.includes(key)) out[key] = v;
  }
  return out;
}

export function createOpenAICompatibleAdapter(variant: OpenAICompatibleVariant): ProviderAdapter {
  const staticHeaders = cleanHeaders(variant.headers, variant.authHeaderNames);
  const policy = upstreamPolicy(variant.name, variant.nonRetryable, variant.redact, Object.keys(staticHeaders), variant.kind === 'openai' ? ACCOUNT_HEADERS : []);
  const reserved = [...variant.authHeaderNames, ...TRANSPORT_HEADERS];
  // Forwarded headers are already lower-cased by the edge; copy them only when they carry a reserved name.
  const forwardedIsClean = (h: Record<string, string>): boolean => reserved.every((n) => !(n in h));

  async function call(req: UpstreamRequest): Promise<ProviderReply> {
    const stream = req.stream && req.op !== 'embedding';
    const forwarded = forwardedIsClean(req.headers) ? req.headers : cleanHeaders(req.headers, variant.authHeaderNames);
    const headers: Record<string, string> = { ...forwarded, ...staticHeaders, ...variant.auth(req.apiKey) };
    if (stream) headers.accept = 'text/event-stream';
    // The body is forwarded as given; only a disagreement between the stream flag and the body is reconciled, and streams
    // ask for usage so the gateway can bill real token counts (the extra chunk is hidden from a client that did not ask).
    const bodyStream = req.body.stream === true;
    const addUsage = stream && variant.streamUsage !== false && !clientAskedUsage(req.body);
    const asGiven = !addUsage && (req.op === 'embedding' || stream === bodyStream);
    // The caller's own text when the body goes as given and nothing changed it; serialised once otherwise.
    const body = asGiven && req.bodyText !== undefined ? req.bodyText : JSON.stringify(
      addUsage ? { ...req.body, stream, stream_options: { ...(req.body.stream_options as object | undefined), include_usage: true } }
        : asGiven ? req.body : { ...req.body, stream },
    );
    const timeoutMs = req.timeoutMs > 0 ? req.timeoutMs : variant.timeoutMs;
    const url = variant.url(req.op, req.model);
    const post = { policy, headers, body, timeoutMs, onHeaders: req.onHeaders };
    if (!stream) {
      const { status, raw, json } = await postForJson(url, { ...post, signal: req.abort });
      // The bytes are passed on as they are, so they must be the answer: never an error or anything else sent with a 2xx.
      if (!Array.isArray(req.op === 'embedding' ? json.data : json.choices)) throw unexpectedReply(policy, json, `an OpenAI ${req.op} response`);
      return { kind: 'json', status, body: json, raw, usage: readUsage(json.usage) };
    }
    const res = await postForStream(url, { ...post, signal: req.abort });
    const events = new OpenAIEventReader(addUsage, policy.redact);
    const source = ssePartSource(res.body, (ev, out) => events.read(ev, out));
    return startStream(policy, res.status, source, req.abort, (clean) => res.body.release(clean), post.headers);
  }

  return { kind: variant.kind, supports: ALL_OPERATIONS, call };
}
