/**
 * A gateway as its own process (the `switchyard` command from sources, or a built tree), started on an ephemeral port: the
 * helper waits for the "switchyard listening" log line and returns its URL. Output is kept for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** tsx as an absolute loader path, so the sources run from any working folder. */
const TSX = import.meta.resolve('tsx');

export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `node <argv>` in `cwd` with exactly `env` (plus PATH); resolves once it listens, rejects if it exits or takes over `timeoutMs`. */
export async function spawnGateway(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, argv, {
    cwd: opts.cwd ?? REPO,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { void stop(); reject(new Error(`the gateway did not start within ${opts.timeoutMs ?? 60_000} ms:\n${out}`)); }, opts.timeoutMs ?? 60_000);
    const onData = (): void => {
      const m = /"url":"(http:\/\/[^"]+)"[^\n]*switchyard listening/.exec(out);
      if (m) { clearTimeout(timer); child.stdout!.off('data', onData); resolve(m[1]); }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the gateway exited with ${code}:\n${out}`)); });
  });
  return { url, child, output: () => out, stop };
}

/** The `switchyard` command run from sources: `switchyard <args>`. */
export const cliArgs = (...args: string[]): string[] => ['--import', TSX, path.join(REPO, 'src/cli.ts'), ...args];
