/**
 * Raw HTTP/1.1 on a socket, for requests no HTTP client would send (broken framing, huge or odd headers, a body cut short or
 * declared and never sent).
 */
import net from 'node:net';

export interface RawExchangeOptions {
  /** The client closes its side this long after writing (a client that goes away); without it the socket stays open. */
  endAfterMs?: number;
  /** Longest wait for an answer. */
  waitMs?: number;
}

/**
 * Writes `text` on a socket to the server at `url`; resolves with what came back and how long it took, once a whole reply
 * (status line, headers and the body its Content-Length gives) has arrived, the server closed the connection, or `waitMs`
 * passed.
 */
export function rawExchange(url: string, text: string, opts: RawExchangeOptions = {}): Promise<{ reply: string; ms: number }> {
  const u = new URL(url);
  const start = performance.now();
  return new Promise((resolve) => {
    let out = '';
    let ending: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      clearTimeout(ending);
      s.destroy();
      resolve({ reply: out, ms: performance.now() - start });
    };
    const timer = setTimeout(done, opts.waitMs ?? 4000);
    const s = net.connect(Number(u.port), u.hostname, () => {
      s.write(text);
      if (opts.endAfterMs !== undefined) ending = setTimeout(() => s.end(), opts.endAfterMs);
    });
    s.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const end = out.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(out.slice(0, end));
      if (end >= 0 && length && Buffer.byteLength(out.slice(end + 4)) >= Number(length[1])) done();
    });
    s.on('close', done);
    s.on('error', done);
  });
}

/** The JSON body of a raw reply. */
export const replyJson = (reply: string): any => JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
