/**
 * A loopback front that forwards each request to a different upstream by its bearer key — so one provider's keys can behave
 * differently (one slow, one failing) in tests of key balancing and circuits.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KeyRouter {
  url: (path?: string) => string;
  close(): Promise<void>;
}

export async function keyRouter(routes: Record<string, string>): Promise<KeyRouter> {
  const server: Server = createServer((req, res) => {
    const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const target = routes[key];
    if (!target) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"unknown key","type":"invalid_request_error","param":null,"code":null}}');
      return;
    }
    const url = new URL(req.url ?? '/', target);
    const up = request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path = '') => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
