/**
 * The simulator's fault schedule: a queue of faults for the next requests, then an optional persistent fault.
 */
import type { Fault } from './types.js';

export class FaultSchedule {
  private readonly queue: Array<{ fault: Fault; remaining: number }> = [];
  private persistent: Fault | null = null;

  inject(fault: Fault, times = 1): void {
    if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer');
    this.queue.push({ fault, remaining: times });
  }

  set(fault: Fault | null): void {
    this.persistent = fault;
  }

  clear(): void {
    this.queue.length = 0;
    this.persistent = null;
  }

  /** The fault for the next request, consuming one use of a queued fault. */
  next(): Fault | undefined {
    const head = this.queue[0];
    if (head !== undefined) {
      head.remaining -= 1;
      if (head.remaining === 0) this.queue.shift();
      return head.fault;
    }
    return this.persistent ?? undefined;
  }
}

const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'Bad request',
  401: 'Incorrect API key provided.',
  403: 'Forbidden',
  404: 'Not found',
  408: 'Request timed out',
  409: 'Conflict',
  429: 'Rate limit reached for requests. Please try again later.',
  500: 'The server had an error while processing your request.',
  502: 'Bad gateway',
  503: 'The engine is currently overloaded, please try again later.',
  504: 'Gateway timeout',
  529: 'Overloaded',
};

export const defaultFaultMessage = (status: number): string => DEFAULT_MESSAGES[status] ?? `Simulated failure (${status})`;
