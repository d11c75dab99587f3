/**
 * Server-sent events, both directions: a parser for upstream bodies and the writer used at the HTTP edge.
 */

export interface SseEvent {
  event?: string;
  data: string;
}

/** Longest line accepted from an upstream; a peer that never sends a newline cannot grow memory without bound. */
export const MAX_SSE_LINE = 8 * 1024 * 1024;

/**
 * Parses an SSE byte stream into events. Handles \n and \r\n line ends, multi-line data, comments and split chunks.
 * Throws when a line grows past MAX_SSE_LINE.
 */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: string | undefined;
  let data: string[] = [];
  for await (const piece of body) {
    buffer += typeof piece === 'string' ? piece : decoder.decode(piece, { stream: true });
    if (buffer.length > MAX_SSE_LINE && buffer.indexOf('\n') < 0) {
      throw Object.assign(new Error(`upstream sent an event line over ${MAX_SSE_LINE} bytes`), { code: 'UPSTREAM_BAD_CHUNK' });
    }
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      let line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (data.length > 0) yield event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') };
        event = undefined;
        data = [];
        continue;
      }
      if (line.charCodeAt(0) === 58 /* ':' comment */) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0 && buffer.startsWith('data:')) data.push(buffer.slice(5).trimStart());
  if (data.length > 0) yield event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') };
}

/** One SSE data frame. */
export const sseData = (json: string): string => `data: ${json}\n\n`;
export const SSE_DONE = 'data: [DONE]\n\n';
