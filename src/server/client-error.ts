/**
 * Requests node's HTTP server refuses before any route sees them (headers over the size limit, a malformed request line or
 * chunk, a header timeout, an Expect header other than 100-continue): answered in the OpenAI error envelope, as every other
 * refusal is, instead of node's bare status line. The protocol the caller meant is not known yet, so OpenAI's envelope is used.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { GatewayError, invalidRequest } from '../errors.js';
import { openAIEnvelope, writeError } from './write-reply.js';

const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** The refusal for a parser error (by node's error code). */
export function clientErrorRefusal(code: string | undefined): GatewayError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError({ status: 431, message: 'The request headers are too large.', type: 'invalid_request_error', code: 'headers_too_large', failure: 'caller' });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GatewayError({ status: 408, message: 'The request was not received in time.', type: 'invalid_request_error', code: 'request_timeout', failure: 'caller' });
    default:
      return invalidRequest('The request is not valid HTTP.', null, 'malformed_request');
  }
}

/** server.on('clientError'): writes the envelope when the socket can still take it, then closes the connection (or only closes it). */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // As node's own handler: never write into a reply already started on this connection (it would corrupt it).
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const { status, body } = openAIEnvelope(clientErrorRefusal(err.code));
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** server.on('checkExpectation'): an Expect the server cannot meet is a 417 in the envelope, its body left unread. */
export function answerUnknownExpectation(req: IncomingMessage, res: ServerResponse): void {
  const expect = String(req.headers.expect ?? '').slice(0, 100);
  writeError(res, new GatewayError({
    status: 417, message: `The expectation '${expect}' cannot be met; only 100-continue is supported.`, type: 'invalid_request_error',
    code: 'expectation_failed', failure: 'caller', headers: { connection: 'close' },
  }));
}
