/**
 * Starting a streamed reply, shared by every adapter: the first part is awaited before the reply is handed on, so a failure
 * before the first byte throws (and fallback can run); after that, any failure becomes an error part and the stream ends.
 * A stream that stops without its terminator never looks like a clean finish.
 */
import { GatewayError } from '../../errors.js';
import { classifyNetworkError, type UpstreamPolicy } from '../failure.js';
import type { StreamPart, StreamReply } from '../types.js';
import { withCleanup } from '../../util/with-cleanup.js';

type ErrorPart = Extract<StreamPart, { type: 'error' }>;

export const errorPart = (message: string, type: string, code: string | null): ErrorPart => ({ type: 'error', failure: { message, type, code } });

/**
 * Converts an in-band error that arrived before the first part into the error thrown from `call` (its message was sanitised
 * by the protocol parser that made the part).
 */
export function errorPartToGatewayError(provider: string, part: ErrorPart): GatewayError {
  const { message, type, code } = part.failure;
  const rateLimited = /rate.?limit/i.test(type) || /rate.?limit/i.test(code ?? '');
  return new GatewayError({
    status: rateLimited ? 429 : 502,
    message: `Upstream ${provider} stream failed before its first chunk: ${message}`,
    type: rateLimited ? 'rate_limit_error' : 'upstream_error',
    code: rateLimited ? 'upstream_rate_limited' : 'upstream_stream_error',
    failure: rateLimited ? 'rate_limited' : 'upstream',
  });
}

function brokenAfterStart(policy: UpstreamPolicy, err: unknown, signal: AbortSignal): ErrorPart {
  const classified = classifyNetworkError(policy, err, signal.aborted);
  const code = classified.code === 'client_closed' ? 'client_closed' : 'upstream_stream_interrupted';
  return errorPart(`Upstream ${policy.provider} stream broke: ${classified.message}`, classified.type, code);
}

/**
 * Awaits the first part of `source` and returns the reply. `release` frees the upstream connection; it runs exactly once,
 * whether the stream finishes, breaks, fails to start, or the consumer stops reading early — `clean` when the upstream's
 * terminator arrived (its connection can be kept).
 */
export async function startStream(
  policy: UpstreamPolicy,
  status: number,
  source: AsyncGenerator<StreamPart>,
  signal: AbortSignal,
  release: (clean: boolean) => void,
): Promise<StreamReply> {
  const { provider } = policy;
  let first: IteratorResult<StreamPart>;
  try {
    first = await source.next();
  } catch (err) {
    release(false);
    throw classifyNetworkError(policy, err, signal.aborted);
  }
  if (first.done === true) {
    release(false);
    if (signal.aborted) throw classifyNetworkError(policy, new Error('aborted'), true);
    throw new GatewayError({
      status: 502, message: `Upstream ${provider} ended the stream before its first chunk`, type: 'upstream_error',
      code: 'upstream_stream_interrupted', failure: 'upstream',
    });
  }
  if (first.value.type === 'error') {
    release(false);
    throw errorPartToGatewayError(provider, first.value);
  }
  const head = first.value;
  let clean = head.type === 'done';

  async function* parts(): AsyncGenerator<StreamPart> {
    yield head;
    if (head.type === 'done') return;
    while (true) {
      let next: IteratorResult<StreamPart>;
      try {
        next = await source.next();
      } catch (err) {
        // A client that went away is not an upstream failure: end quietly and let observers see an abort.
        if (!signal.aborted) yield brokenAfterStart(policy, err, signal);
        return;
      }
      if (next.done === true) break;
      if (next.value.type === 'done') clean = true;
      yield next.value;
      if (next.value.type === 'done' || next.value.type === 'error') return;
    }
    if (!signal.aborted) yield errorPart(`Upstream ${provider} stream ended without its terminator`, 'upstream_error', 'upstream_stream_interrupted');
  }
  const cleanup = (): void => {
    release(clean);
    // Closes the protocol generator if the consumer stopped early; a no-op when it already finished.
    void source.return(undefined).catch(() => undefined);
  };
  return { kind: 'stream', status, parts: withCleanup(parts(), cleanup) };
}
