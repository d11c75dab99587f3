/**
 * One streamed call as a handler of undici's dispatcher, as a JSON call is (./http.ts `postForJson`): no request wrapper,
 * no response stream, no event emitter per call. The upstream's chunks go straight to whoever reads the body (a pending
 * read takes a chunk as it arrives; otherwise chunks wait in a short queue) and the connection is paused while more than
 * HIGH_WATER bytes wait, so a client that reads slowly slows the upstream instead of growing memory. A non-2xx reply has
 * its body read up to MAX_ERROR_BODY and becomes the classified error. The request's signal aborts the call (the listener
 * is this object, removed when the call ends). The body's idle timeout is undici's (`bodyTimeout`).
 */
import type { Dispatcher } from 'undici';
import { classifyNetworkError } from './failure.js';
import { ErrorBody, ListeningCall, rateLimitInfo, startCall, type PostOptions, type UpstreamHeaders } from './http.js';

/** Bytes of chunks waiting to be read past which the upstream connection is paused (undici's own stream reads 64 KB ahead). */
const HIGH_WATER = 64 * 1024;

/**
 * Longest a streamed body may take to end after its terminator (what is left is the end of the chunked encoding, sent at
 * once): one that goes on sending (the body timeout is an idle one) is aborted rather than holding its connection.
 */
export const RELEASE_WAIT_MS = 5_000;

/** A streamed reply's body: its chunks in order, then `release` once whoever read it is done with it. */
export interface StreamBody extends AsyncIterable<Buffer> {
  /**
   * Frees the connection. `clean`: the stream's terminator arrived, so what is left (usually only the end of the chunked
   * encoding) is dropped as it arrives within RELEASE_WAIT_MS and the keep-alive connection is kept; otherwise (broken,
   * abandoned, client gone, or no end in time) the call is aborted.
   */
  release(clean: boolean): void;
}

export interface StreamResponse {
  status: number;
  headers: UpstreamHeaders;
  body: StreamBody;
}

type Read = IteratorResult<Buffer>;
const DONE: Read = Object.freeze({ done: true, value: undefined });

class StreamCall extends ListeningCall<StreamResponse> implements Dispatcher.DispatchHandler, StreamBody, AsyncIterator<Buffer> {
  /** The body of a non-2xx reply, read for its message. */
  private error: ErrorBody | undefined;
  /** The call has answered: resolved with the body, or rejected. */
  private answered = false;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private paused = false;
  /** Reads waiting for the next chunks, oldest first (an iterator may be read again before a read settles). */
  private readonly waiting: Array<{ resolve: (r: Read) => void; reject: (e: unknown) => void }> = [];
  private ended = false;
  private failure: Error | undefined;
  private released = false;
  private releaseTimer: ReturnType<typeof setTimeout> | undefined;

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }

  next(): Promise<Read> {
    if (this.released) return Promise.resolve(DONE);
    const chunk = this.queue.shift();
    if (chunk !== undefined) {
      this.queued -= chunk.length;
      if (this.paused && this.queued < HIGH_WATER) {
        this.paused = false;
        this.controller?.resume();
      }
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => { this.waiting.push({ resolve, reject }); });
  }

  /** The reader stopped: the connection is for `release` to free. */
  return(): Promise<Read> {
    return Promise.resolve(DONE);
  }

  release(clean: boolean): void {
    if (this.released) return;
    this.released = true;
    this.queue.length = 0;
    this.queued = 0;
    if (this.ended || this.failure !== undefined) return;
    if (!clean) {
      this.abort(new Error('the stream was released before its end'));
      return;
    }
    // The wait first: resuming may deliver the rest and the end at once, and the end clears it.
    this.releaseTimer = setTimeout(() => this.abort(new Error(`the stream did not end within ${RELEASE_WAIT_MS} ms of its terminator`)), RELEASE_WAIT_MS);
    this.releaseTimer.unref();
    if (this.paused) {
      this.paused = false;
      this.controller?.resume();
    }
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: UpstreamHeaders): void {
    if (status < 200) return; // informational
    const info = rateLimitInfo(headers, this.opts.policy, this.opts.headers);
    this.opts.onHeaders?.(info);
    if (status >= 300) {
      this.error = new ErrorBody(status, info.retryAfterS);
      return;
    }
    this.answered = true;
    this.resolve({ status, headers, body: this });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.error !== undefined) {
      if (this.error.add(chunk)) {
        this.failStatus();
        controller.abort(new Error('error body over its limit'));
      }
      return;
    }
    if (this.released) return;
    const waiting = this.waiting.shift();
    if (waiting !== undefined) {
      waiting.resolve({ done: false, value: chunk });
      return;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (!this.paused && this.queued >= HIGH_WATER) {
      this.paused = true;
      controller.pause();
    }
  }

  onResponseEnd(): void {
    this.ended = true;
    this.finish();
    if (this.error !== undefined) {
      this.failStatus();
      return;
    }
    for (const w of this.waiting.splice(0)) w.resolve(DONE);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.finish();
    if (!this.answered) {
      this.answered = true;
      this.reject(classifyNetworkError(this.opts.policy, err, this.opts.signal.aborted));
      return;
    }
    this.failure = err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  private failStatus(): void {
    if (this.answered) return;
    this.answered = true;
    this.reject(this.error!.toGatewayError(this.opts.policy, this.opts.headers));
  }

  private abort(reason: Error): void {
    this.controller?.abort(reason);
  }

  /** The call is over: nothing listens any more. */
  private finish(): void {
    clearTimeout(this.releaseTimer);
    this.opts.signal.removeEventListener('abort', this);
  }
}

/**
 * POSTs a JSON body for a streamed reply. Resolves with the body to read once a 2xx status arrives; an error status (its
 * body read), a network error or a timeout before then rejects with the classified GatewayError. Whoever reads the body
 * must `release` it.
 */
export function postForStream(url: string, opts: PostOptions): Promise<StreamResponse> {
  return startCall(url, opts, (resolve, reject) => new StreamCall(opts, resolve, reject));
}
