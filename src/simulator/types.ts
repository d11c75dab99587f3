/**
 * The upstream simulator's public shapes: options, faults and recorded requests.
 */
import type { IncomingHttpHeaders } from 'node:http';

export type SimulatorProtocol = 'openai' | 'anthropic' | 'azure';

export interface SimulatorOptions {
  protocol: SimulatorProtocol;
  /** Appears in every reply's content as `[<name>] ...` so callers can tell which upstream answered. Default: the protocol. */
  name?: string;
  host?: string;
  /** 0 (default) picks an ephemeral port. */
  port?: number;
  /** Models (azure: deployments) served; others get 404. Default: any model is accepted. */
  models?: string[];
  /** When set, a request authenticated with any other key gets 401 in the protocol's error shape. */
  apiKeys?: string[];
  /** Delay before every response's headers. */
  latencyMs?: number;
  /** Delay between streamed chunks. */
  tokensPerChunkDelayMs?: number;
  /** Value of the always-on `x-ratelimit-remaining-requests` header (default 1000; null omits it). */
  remainingRequests?: number | null;
}

/**
 * A fault applies to one request. Fields combine: `delayMs` delays whatever else the fault does.
 *  - status (+ body, headers): answer with that status; the body defaults to the protocol's error shape.
 *  - delayMs: wait before sending headers.
 *  - hang: never answer (for timeouts).
 *  - reset: destroy the socket without a response.
 *  - cutAfterChunks: stream: destroy the socket after n SSE events, no terminator; JSON: destroy it halfway through the body.
 *  - errorEvent (+ afterChunks, default 0): stream: an in-band error event after n SSE events; JSON: a 500.
 */
export interface Fault {
  status?: number;
  body?: object;
  headers?: Record<string, string>;
  delayMs?: number;
  hang?: boolean;
  reset?: boolean;
  cutAfterChunks?: number;
  errorEvent?: boolean;
  afterChunks?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path and query string. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: Record<string, unknown> | undefined;
  /** The body's bytes as received, as text. */
  text: string;
  /** The API key the request authenticated with, per the protocol's header; undefined when none. */
  key: string | undefined;
  /** The fault applied to this request, if any. */
  fault: Fault | undefined;
  /** The response body as written so far (a JSON body, or the stream's events), so a test can compare what a client got. */
  sent: string;
  /** Settles when the exchange is over: the response was sent, or the connection closed (e.g. the client aborted). */
  finished: Promise<void>;
}

export interface Simulator {
  /** Base URL to configure a provider with. */
  readonly url: string;
  readonly port: number;
  readonly name: string;
  readonly protocol: SimulatorProtocol;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  requestCount(): number;
  /** Queues a fault for the next `times` requests (default 1). */
  inject(fault: Fault, times?: number): void;
  /** A fault applied to every request until cleared with null; queued faults take precedence. */
  setFault(fault: Fault | null): void;
  /** Value of `x-ratelimit-remaining-requests` (null omits the header). */
  setRemainingRequests(value: number | null): void;
  /** Clears recorded requests and all faults. */
  reset(): void;
  close(): Promise<void>;
}

/** What a protocol handler answers; the server applies latency and faults while writing it. */
export type SimReply =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'stream'; frames: string[]; errorFrame: string; headers?: Record<string, string> };

export interface ProtocolHandler {
  /** Path prefix of the base URL (e.g. '/v1'); '' for none. */
  readonly basePath: string;
  /** The API key a request carries, per the protocol's header. */
  keyOf(headers: IncomingHttpHeaders): string | undefined;
  /** Error body in the protocol's shape. */
  errorBody(status: number, message: string): unknown;
  handle(method: string, url: URL, body: Record<string, unknown> | undefined, headers: IncomingHttpHeaders): SimReply;
}
