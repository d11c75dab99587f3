/**
 * Starting a streamed reply, shared by every adapter: the first part is awaited before the reply is handed on, so a failure
 * before the first byte throws (and fallback can run); after that, any failure becomes an error part and the stream ends.
 * A stream that stops without its terminator never looks like a clean finish.
 */
import { GatewayError } from '../../errors.js';
import { classifyNetworkError, statedError, streamFailureClass, type UpstreamPolicy } from '../failure.js';
import type { AbortSource } from '../../pipeline/client-abort.js';
import type { StreamPart, StreamReply } from '../types.js';

type ErrorPart = Extract<StreamPart, { type: 'error' }>;

export const errorPart = (message: string, type: string, code: string | null): ErrorPart => ({ type: 'error', failure: { message, type, code } });

/**
 * Converts an in-band error that arrived before the first part into the error thrown from `call` (its message was sanitised
 * by the protocol parser that made the part). It is classified by what the upstream said (`statedClass`): a request the
 * upstream refused as invalid stops as the caller's error; an error it did not explain is its own failure. `sent`: the
 * attempt's headers (a rate limit of the account the caller's header chose is the caller's).
 */
export function errorPartToGatewayError(policy: UpstreamPolicy, part: ErrorPart, sent: Readonly<Record<string, string>>): GatewayError {
  const { message, type, code } = part.failure;
  const text = `Upstream ${policy.provider} stream failed before its first chunk: ${message}`;
  return statedError(policy, type, code, text, sent) ?? new GatewayError({
    status: 502, message: text, type: 'upstream_error', code: 'upstream_stream_error', failure: 'upstream',
  });
}

function brokenAfterStart(policy: UpstreamPolicy, err: unknown, signal: AbortSource): ErrorPart {
  const classified = classifyNetworkError(policy, err, signal.aborted);
  // The caller's (the client went away, an event the request asked to be over the reader's cap) keeps its code, so its class.
  const code = classified.failure === 'caller' && classified.code !== null ? classified.code : 'upstream_stream_interrupted';
  return errorPart(`Upstream ${policy.provider} stream broke: ${classified.message}`, classified.type, code);
}

/**
 * Awaits the first part of `source` and returns the reply. `release` frees the upstream connection; it runs exactly once,
 * whether the stream finishes, breaks, fails to start, or the consumer stops reading early — `clean` when the upstream's
 * terminator arrived (its connection can be kept). `sent`: the attempt's headers, which an error's class may depend on.
 */
export async function startStream(
  policy: UpstreamPolicy,
  status: number,
  source: AsyncIterator<StreamPart>,
  signal: AbortSource,
  release: (clean: boolean) => void,
  sent: Readonly<Record<string, string>>,
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
    throw errorPartToGatewayError(policy, first.value, sent);
  }
  return { kind: 'stream', status, parts: new StartedStream(policy, first.value, source, signal, release, sent) };
}

/**
 * The reply's parts after the first: a failure of the source becomes an error part (unless the client went away), a source
 * that stops without a terminator ends with one, every error part carries its class (`StreamFailure.class`, read here
 * once), and `release` runs once when the stream ends or the consumer stops. A class
 * rather than a generator so a part costs one await (the source's), not another generator step.
 */
class StartedStream implements AsyncIterable<StreamPart>, AsyncIterator<StreamPart> {
  private head: StreamPart | undefined;
  /** No part follows: the next call ends the iteration. */
  private finished: boolean;
  private released = false;
  private clean: boolean;

  constructor(
    private readonly policy: UpstreamPolicy,
    head: StreamPart,
    private readonly source: AsyncIterator<StreamPart>,
    private readonly signal: AbortSource,
    private readonly release: (clean: boolean) => void,
    private readonly sent: Readonly<Record<string, string>>,
  ) {
    this.head = head;
    this.clean = head.type === 'done';
    this.finished = this.clean;
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamPart> {
    return this;
  }

  next(): Promise<IteratorResult<StreamPart>> {
    const head = this.head;
    if (head !== undefined) {
      this.head = undefined;
      return Promise.resolve({ done: false, value: head });
    }
    if (this.finished) return Promise.resolve(this.end());
    return this.source.next().then(
      (r) => {
        if (r.done === true) {
          this.finished = true;
          if (this.signal.aborted) return this.end();
          return { done: false, value: this.classified(errorPart(`Upstream ${this.policy.provider} stream ended without its terminator`, 'upstream_error', 'upstream_stream_interrupted')) };
        }
        const type = r.value.type;
        if (type === 'done') {
          this.finished = true;
          this.clean = true;
        } else if (type === 'error') {
          this.finished = true;
          return { done: false, value: this.classified(r.value) };
        }
        return r;
      },
      (err: unknown) => {
        this.finished = true;
        // A client that went away is not an upstream failure: end quietly and let observers see an abort.
        if (this.signal.aborted) return this.end();
        return { done: false, value: this.classified(brokenAfterStart(this.policy, err, this.signal)) };
      },
    );
  }

  /** The error part with its class (a new part: the parser's may be shared with its wire event). */
  private classified(part: ErrorPart): ErrorPart {
    const { type, code, message } = part.failure;
    return { ...part, failure: { ...part.failure, class: streamFailureClass(this.policy, type, code, message, this.sent) } };
  }

  return(): Promise<IteratorResult<StreamPart>> {
    this.head = undefined;
    this.finished = true;
    return Promise.resolve(this.end());
  }

  /** Frees the upstream once, and closes the protocol reader if the consumer stopped early (a no-op once it finished). */
  private end(): IteratorResult<StreamPart> {
    if (!this.released) {
      this.released = true;
      this.release(this.clean);
      void this.source.return?.(undefined)?.catch(() => undefined);
    }
    return { done: true, value: undefined };
  }
}
