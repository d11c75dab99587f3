/**
 * A TCP proxy in front of the test Redis that can be cut and restored (Redis going away), paused and resumed (Redis
 * hung, as under SIGSTOP: connections stay open, nothing is answered), or made to hold its replies (Redis slow: commands are
 * carried out, their replies arrive late).
 */
import net from 'node:net';
import { TEST_REDIS_URL } from './requires.js';

export interface RedisProxy {
  port: number;
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  pause(): void;
  resume(): void;
  holdReplies(): void;
  releaseReplies(): void;
}

export async function redisProxy(): Promise<RedisProxy> {
  const target = new URL(TEST_REDIS_URL);
  const sockets = new Set<net.Socket>();
  const upstream = new Set<net.Socket>();
  let paused = false;
  let holding = false;
  let server: net.Server;
  let port = 0;
  const listen = () => new Promise<void>((resolve) => {
    server = net.createServer((s) => {
      const up = net.connect(Number(target.port || 6379), target.hostname);
      sockets.add(s); sockets.add(up); upstream.add(up);
      s.pipe(up); up.pipe(s);
      if (paused) { s.pause(); up.pause(); }
      if (holding) up.pause();
      up.on('close', () => upstream.delete(up));
      const drop = () => { s.destroy(); up.destroy(); };
      s.on('error', drop); up.on('error', drop); s.on('close', drop); up.on('close', drop);
    });
    server.listen(port, '127.0.0.1', () => { port = (server.address() as net.AddressInfo).port; resolve(); });
  });
  await listen();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cut: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); sockets.clear(); server.close(() => resolve()); }),
    restore: listen,
    pause: () => { paused = true; for (const s of sockets) s.pause(); },
    resume: () => { paused = false; for (const s of sockets) s.resume(); },
    holdReplies: () => { holding = true; for (const up of upstream) up.pause(); },
    releaseReplies: () => { holding = false; for (const up of upstream) up.resume(); },
  };
}
