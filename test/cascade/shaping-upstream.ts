/**
 * A shaping upstream for cascade tests and the cascade benchmark: a real HTTP server on loopback in front of a simulator
 * that may rewrite a request's last user message before forwarding it. The simulator echoes that message, so the rewrite
 * decides the answer (a refusal, a short reply, invalid JSON) while the reply — JSON or SSE, usage, logprobs — is still the
 * simulator's own.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Simulator } from '../../src/simulator/types.js';

type Body = Record<string, unknown>;

/** Returns the text to put in place of the last user message (or undefined to forward unchanged). */
export type Shaper = (body: Body) => string | undefined;

export interface ShapingUpstream {
  /** Base URL to configure a provider with (same path as the simulator's). */
  readonly url: string;
  /** Requests shaped so far. */
  shaped: number;
  setShaper(s: Shaper | undefined): void;
  close(): Promise<void>;
}

export function lastUser(body: Body): string {
  const messages = body.messages;
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown };
    if (m?.role === 'user' && typeof m.content === 'string') return m.content;
  }
  return '';
}

function rewrite(body: Body, text: string): Body {
  const messages = (body.messages as Array<Record<string, unknown>>).slice();
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'user') {
      messages[i] = { ...messages[i], content: text };
      break;
    }
  }
  return { ...body, messages };
}

export async function startShapingUpstream(sim: Simulator, shaper?: Shaper): Promise<ShapingUpstream> {
  const target = new URL(sim.url);
  let shape = shaper;
  const state = { shaped: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let payload = Buffer.concat(chunks);
      if (payload.length > 0 && shape) {
        try {
          const body = JSON.parse(payload.toString('utf8')) as Body;
          const text = Array.isArray(body.messages) ? shape(body) : undefined;
          if (text !== undefined) {
            payload = Buffer.from(JSON.stringify(rewrite(body, text)));
            state.shaped++;
          }
        } catch {
          /* not JSON: forwarded as is */
        }
      }
      const headers = { ...req.headers, host: target.host, 'content-length': String(payload.length) };
      const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (ures) => {
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        ures.pipe(res);
      });
      up.on('error', () => res.destroy());
      res.on('close', () => up.destroy());
      up.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${target.pathname.replace(/\/$/, '')}`,
    get shaped() { return state.shaped; },
    set shaped(v: number) { state.shaped = v; },
    setShaper: (s) => { shape = s; },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
