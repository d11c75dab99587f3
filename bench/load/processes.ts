/**
 * Child processes for the proxy benchmark: the upstream simulator, the bare proxy, Switchyard and the load generator each run
 * in their own Node process. Works from the compiled tree (dist/bench) and from sources under tsx alike.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadSpec } from './loadgen.js';

const here = fileURLToPath(import.meta.url);
const fromSource = here.endsWith('.ts');
const ext = fromSource ? '.ts' : '.js';
/** Node flags children need: the tsx loader when running from sources. */
const childExecArgv = fromSource ? process.execArgv.filter((a) => !a.startsWith('--cpu-prof') && !a.startsWith('--inspect')) : [];

/** The repository root: the nearest ancestor holding package.json. */
export function repoRoot(): string {
  let dir = dirname(here);
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (package.json) above the benchmark');
    dir = up;
  }
  return dir;
}

export const loadScript = (name: string): string => join(dirname(here), `${name}${ext}`);
export const cliScript = (): string => (fromSource ? join(repoRoot(), 'src', `cli${ext}`) : join(repoRoot(), 'dist', 'src', 'cli.js'));

export interface Child {
  readonly proc: ChildProcess;
  /** Last lines written to stderr, for error messages. */
  stderr(): string;
  stop(): Promise<void>;
}

function track(proc: ChildProcess): Child {
  let err = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  return {
    proc,
    stderr: () => err,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts a script that prints one JSON line on stdout when ready, and returns that line parsed. */
export async function spawnReady<T>(script: string, args: string[], nodeArgs: string[] = [], prefix: string[] = []): Promise<{ child: Child; info: T }> {
  const argv = [process.execPath, ...childExecArgv, ...nodeArgs, script, ...args];
  const proc = spawn(prefix[0] ?? argv[0], [...prefix.slice(1), ...argv.slice(prefix.length > 0 ? 0 : 1)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const child = track(proc);
  const info = await new Promise<T>((resolve, reject) => {
    let out = '';
    const onData = (d: string): void => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      proc.stdout?.off('data', onData);
      proc.stdout?.resume();
      try {
        resolve(JSON.parse(out.slice(0, nl)) as T);
      } catch {
        reject(new Error(`${script} printed '${out.slice(0, nl)}' instead of its address`));
      }
    };
    proc.stdout?.setEncoding('utf8').on('data', onData);
    proc.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready: ${child.stderr()}`)));
  });
  return { child, info };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts Switchyard from its CLI on a config file and waits for GET /health. Logs go to /dev/null. `cli`: another build's
 * compiled CLI (e.g. an older commit's, to compare against), this tree's by default. `prefix`: a command the node process
 * runs under (say valgrind and its options).
 */
export async function startSwitchyard(configFile: string, nodeArgs: string[] = [], readyTimeoutMs = 120_000, cli = cliScript(), prefix: string[] = []): Promise<{ child: Child; origin: string }> {
  const port = await freePort();
  const argv = [process.execPath, ...childExecArgv, ...nodeArgs, cli, '--config', configFile, '--port', String(port), '--host', '127.0.0.1'];
  const proc = spawn(prefix[0] ?? argv[0], [...prefix.slice(1), ...argv.slice(prefix.length > 0 ? 0 : 1)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: repoRoot(),
  });
  const child = track(proc);
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`switchyard exited (${proc.exitCode}) at start: ${child.stderr().trim()}`);
    try {
      const res = await fetch(`${origin}/health`);
      await res.arrayBuffer();
      if (res.ok) return { child, origin };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await child.stop();
      throw new Error(`switchyard did not become healthy within ${readyTimeoutMs} ms: ${child.stderr().trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs one load in a fresh load-generator process. */
export async function runLoadProcess(spec: LoadSpec): Promise<LoadResult> {
  const proc = spawn(process.execPath, [...childExecArgv, loadScript('loadgen')], { stdio: ['pipe', 'pipe', 'pipe'] });
  const child = track(proc);
  let out = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  proc.stdin?.end(JSON.stringify(spec));
  const code = await new Promise<number | null>((resolve) => proc.once('close', (c) => resolve(c)));
  if (code !== 0) throw new Error(`load generator failed (${code}): ${child.stderr().trim()}`);
  return JSON.parse(out) as LoadResult;
}

/** The floor every comparison runs against: the mock upstream and a bare node:http proxy in front of it (both added to `children`). */
export async function spawnUpstreamAndBareProxy(children: Child[]): Promise<{
  upstream: { child: Child; info: { url: string; origin: string } };
  bare: { child: Child; info: { url: string } };
}> {
  const upstream = await spawnReady<{ url: string; origin: string }>(loadScript('upstream'), []);
  children.push(upstream.child);
  const bare = await spawnReady<{ url: string }>(loadScript('bare-proxy'), [upstream.info.origin]);
  children.push(bare.child);
  return { upstream, bare };
}
