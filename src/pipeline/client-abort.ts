/**
 * A request's client abort: set once when the client goes away. Node 20 makes an `AbortSignal` with a prototype swap and
 * symbol-keyed stores that each go to the runtime (about 18 k instructions), and an `abort` listener on it costs 9 k more:
 * together about 6% of a proxied JSON request's instructions. So the signal is made only when something asks for it (a
 * single-flight wait, a cascade tier); what only needs to be told of the abort (the upstream calls, a streamed attempt's
 * own abort, the executor's checks) reads `aborted` or listens here.
 */

/** An abort listener object (the form both an AbortSignal and a ClientAbort take). */
export interface AbortListener {
  handleEvent(event: Event): void;
}

/** What a listener of a client abort needs: an `AbortSignal` is one, and so is a ClientAbort. */
export interface AbortSource {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: AbortListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: AbortListener): void;
}

export class ClientAbort implements AbortSource {
  private controller: AbortController | undefined;
  private listeners: AbortListener[] | undefined;
  private done = false;
  private why: unknown;

  get aborted(): boolean {
    return this.done;
  }

  get reason(): unknown {
    return this.why;
  }

  /** An `AbortSignal` aborted with this abort (at once, with the same reason, if it already happened); made on first use. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.done) this.controller.abort(this.why);
    }
    return this.controller.signal;
  }

  /** Aborts once: the signal (if made) first, then the listeners in the order they were added; later calls do nothing. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    if (this.controller !== undefined) {
      this.controller.abort();
      this.why = this.controller.signal.reason;
    } else {
      this.why = new DOMException('This operation was aborted', 'AbortError');
    }
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners !== undefined) {
      const event = new Event('abort');
      for (const l of listeners) {
        try {
          l.handleEvent(event);
        } catch (err) {
          // As an AbortSignal's listeners: the others still run, and the error is reported as uncaught (the process's
          // handler logs it) rather than thrown into whoever aborted (the socket's close handler).
          process.nextTick(() => { throw err; });
        }
      }
    }
  }

  /** Every listener runs at most once (an abort happens once); one added after the abort is never called, as with a signal. */
  addEventListener(_type: 'abort', listener: AbortListener): void {
    if (!this.done) (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: AbortListener): void {
    const i = this.listeners?.indexOf(listener) ?? -1;
    if (i >= 0) this.listeners!.splice(i, 1);
  }
}
