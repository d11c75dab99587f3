import { GatewayError } from '../../src/errors.js';
import { DEFAULT_NON_RETRYABLE } from '../../src/providers/failure.js';
import type { ProviderReply, StreamPart, UpstreamRequest } from '../../src/providers/types.js';

export const NON_RETRYABLE: ReadonlySet<number> = new Set(DEFAULT_NON_RETRYABLE);

export function upstreamRequest(over: Partial<UpstreamRequest> & Pick<UpstreamRequest, 'body'>): UpstreamRequest {
  const stream = over.stream ?? over.body.stream === true;
  return {
    op: 'chat',
    model: typeof over.body.model === 'string' ? over.body.model : 'gpt-4o-mini',
    stream,
    apiKey: 'sk-test',
    headers: {},
    abort: new AbortController().signal,
    timeoutMs: 0,
    ...over,
  };
}

export const chatBody = (text: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }], ...extra });

export async function collect(reply: ProviderReply): Promise<StreamPart[]> {
  if (reply.kind !== 'stream') throw new Error('expected a stream reply');
  const parts: StreamPart[] = [];
  for await (const p of reply.parts) parts.push(p);
  return parts;
}

/** Concatenated content deltas of a chat stream. */
export function streamedText(parts: StreamPart[]): string {
  let s = '';
  for (const p of parts) if (p.type === 'text-delta' && p.choice === 0) s += p.text;
  return s;
}

/** Awaits a promise expected to reject with a GatewayError and returns it. */
export async function gatewayError(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError, the call succeeded');
}
