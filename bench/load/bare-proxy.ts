/**
 * The floor for any Node gateway here: a bare reverse proxy on node:http that forwards method, path, headers and body to one
 * upstream over keep-alive connections and pipes the reply back, nothing else. Runs as its own process:
 *   node dist/bench/load/bare-proxy.js <upstream-origin>
 * and prints `{"url": ...}` on stdout once listening (ephemeral port on 127.0.0.1).
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const upstream = new URL(process.argv[2] ?? 'http://127.0.0.1:8081');
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const up = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
    (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    },
  );
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"upstream failed","type":"upstream_error"}}');
  });
  req.pipe(up);
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
