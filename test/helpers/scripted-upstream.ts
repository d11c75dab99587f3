/**
 * An upstream whose every reply is scripted byte by byte, for fault injection the protocol simulator cannot express:
 * malformed JSON, broken or endless SSE, huge lines, wrong content types, slow drips, hangs and resets. A reply is chosen by
 * the request's `x-request-id` (the gateway forwards the caller's), so every attempt of one case gets the same script;
 * requests without a script get a well-formed OpenAI reply (JSON or SSE, as asked; a list of vectors for embeddings).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, afterEach, before } from 'node:test';
import type { Gateway } from '../../src/gateway.js';

export interface ScriptedReply {
  status?: number;
  headers?: Record<string, string>;
  /** Body pieces, written in order with `gapMs` between them. */
  chunks?: string[];
  gapMs?: number;
  /** Never answer. */
  hang?: boolean;
  /** Wait this long before the status line (an upstream that sends its headers only with the whole answer). */
  delayMs?: number;
  /** Write the status, headers and chunks, then neither end nor close (an upstream stalled mid-reply). */
  stall?: boolean;
  /** Destroy the socket after writing the chunks (or at once, with no chunks and no status). */
  reset?: boolean;
}

export interface ScriptedUpstream {
  /** Base URL (`…/v1`). */
  readonly url: string;
  script(requestId: string, reply: ScriptedReply): void;
  /** The reply to every request for `model` that has no script of its own id (none: the default reply again). */
  scriptModel(model: string, reply: ScriptedReply | undefined): void;
  /** Requests seen, by request id. */
  seen(requestId: string): number;
  /** Requests seen, by the model their body asked for. */
  seenModel(model: string): number;
  /** Every API key the gateway sent (for secret checks). */
  readonly keys: Set<string>;
  close(): Promise<void>;
}

const ok = (model: string): string => JSON.stringify({
  id: 'chatcmpl-1', object: 'chat.completion', created: 1, model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});

const okStream = (model: string): string[] => [
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { role: 'assistant', content: 'fi' }, finish_reason: null }] })}\n\n`,
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content: 'ne' }, finish_reason: 'stop' }] })}\n\n`,
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model, choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } })}\n\n`,
  'data: [DONE]\n\n',
];

async function readAll(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const p of req) parts.push(p as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const scripts = new Map<string, ScriptedReply>();
  const modelScripts = new Map<string, ScriptedReply>();
  const counts = new Map<string, number>();
  const modelCounts = new Map<string, number>();
  const keys = new Set<string>();
  const sockets = new Set<Socket>();

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readAll(req);
    const id = String(req.headers['x-request-id'] ?? '');
    counts.set(id, (counts.get(id) ?? 0) + 1);
    const auth = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (auth) keys.add(auth);
    let body: { model?: unknown; stream?: unknown; input?: unknown } = {};
    try { body = JSON.parse(text) as typeof body; } catch { /* answered anyway */ }
    const model = typeof body.model === 'string' ? body.model : 'm';
    modelCounts.set(model, (modelCounts.get(model) ?? 0) + 1);
    const script = scripts.get(id) ?? modelScripts.get(model);
    if (script === undefined) {
      if (req.url?.endsWith('/embeddings')) {
        const n = Array.isArray(body.input) ? body.input.length : 1;
        const data = Array.from({ length: n }, (_, index) => ({ object: 'embedding', index, embedding: [0.1, -0.2, 0.3] }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: n, total_tokens: n } }));
      } else if (body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const c of okStream(model)) res.write(c);
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(ok(model));
      }
      return;
    }
    if (script.hang) return;
    if (script.delayMs) await new Promise((r) => setTimeout(r, script.delayMs));
    if (res.destroyed) return;
    if (script.reset && script.status === undefined && (script.chunks ?? []).length === 0) {
      req.socket.destroy();
      return;
    }
    res.writeHead(script.status ?? 200, script.headers ?? { 'content-type': 'application/json' });
    for (const c of script.chunks ?? []) {
      if (res.destroyed) return;
      res.write(c);
      if (script.gapMs) await new Promise((r) => setTimeout(r, script.gapMs));
    }
    if (script.stall) return;
    if (script.reset) res.socket?.destroy();
    else res.end();
  }

  const server: Server = createServer((req, res) => {
    serve(req, res).catch(() => res.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    script: (id, reply) => { scripts.set(id, reply); },
    scriptModel: (model, reply) => { if (reply === undefined) modelScripts.delete(model); else modelScripts.set(model, reply); },
    seen: (id) => counts.get(id) ?? 0,
    seenModel: (model) => modelCounts.get(model) ?? 0,
    keys,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

/**
 * For one describe block: a scripted upstream started before its tests and closed after them (`up`), and the gateways a test
 * starts (`start`, the config as tests/helpers/gateway.ts takes it), each closed after its test.
 */
export function scriptedUpstreamSuite(): { readonly up: ScriptedUpstream; start(raw: Record<string, unknown>): Promise<Gateway> } {
  let up: ScriptedUpstream | undefined;
  const started: Gateway[] = [];
  before(async () => { up = await startScriptedUpstream(); });
  afterEach(async () => {
    for (const gw of started.splice(0)) await gw.close();
  });
  after(async () => { await up?.close(); });
  return {
    get up(): ScriptedUpstream {
      if (up === undefined) throw new Error('the scripted upstream starts before the tests of its describe block');
      return up;
    },
    async start(raw) {
      // Imported here: a test that only needs the upstream (its gateway in a process of its own) does not load the gateway.
      const { gateway } = await import('./gateway.js');
      const gw = await gateway(raw);
      started.push(gw);
      return gw;
    },
  };
}
