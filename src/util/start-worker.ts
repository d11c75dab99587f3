/**
 * Starts a worker thread on a script beside the calling module (`new URL('./x.js', import.meta.url)`). Built, that is the
 * compiled .js; from sources (tests under tsx) a worker does not inherit the tsx loader on Node 20, so it registers it
 * before importing the .ts script. The loader is resolved here, beside this module: an eval'd worker would resolve a bare
 * specifier from the process's working folder, which may be anywhere.
 */
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The script URL for `name` (without extension) beside `moduleUrl`: .ts when that module runs from sources, else .js. */
export const workerScript = (moduleUrl: string, name: string): URL =>
  new URL(`./${name}${moduleUrl.endsWith('.ts') ? '.ts' : '.js'}`, moduleUrl);

export function startWorker(script: URL, options: WorkerOptions = {}): Worker {
  if (!script.pathname.endsWith('.ts')) return new Worker(fileURLToPath(script), options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
