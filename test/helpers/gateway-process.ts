/**
 * A gateway in a process of its own (`src/cli.ts --config <file>`), for tests whose claim is about the process: that it
 * survives, what it logs, how it reloads its config file. Everything it writes to stdout and stderr is kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GatewayProcess {
  readonly url: string;
  readonly file: string;
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Replaces the config file's text (the process reloads it on its own; SIGHUP forces it). */
  writeConfig(text: string): Promise<void>;
  /** Sends SIGHUP and waits until the process logged the reload's outcome. */
  reload(): Promise<string>;
  close(): Promise<number | null>;
}

/** Starts `src/cli.ts` with `configText` as its config file, on an ephemeral port. */
export async function startGatewayProcess(configText: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-proc-'));
  const file = join(dir, 'gateway.yaml');
  await writeFile(file, configText);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--config', file, '--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let exitCode: number | null | undefined;
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { exitCode = code; resolve(code); }));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), 60_000);
    const check = (): void => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url,
    file,
    child,
    output: () => out,
    alive: () => exitCode === undefined,
    writeConfig: (text) => writeFile(file, text),
    async reload() {
      const from = out.length;
      child.kill('SIGHUP');
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const tail = out.slice(from);
        if (/config reloaded|config reload refused/.test(tail)) return tail;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no reload outcome logged:\n${out.slice(from)}`);
    },
    async close() {
      if (exitCode === undefined) child.kill('SIGTERM');
      const code = await exited;
      await rm(dir, { recursive: true, force: true });
      return code;
    },
  };
}
