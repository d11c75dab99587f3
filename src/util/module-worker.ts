/**
 * A worker thread on one of the gateway's own modules, from its built JavaScript or, in the tests, from its TypeScript
 * source under tsx. On Node 20 a worker does not inherit the tsx loader, so from sources the worker registers it before
 * importing the module. The loader is resolved here, beside this module: an eval'd worker would resolve a bare
 * specifier from the process's working folder, which may be anywhere.
 */
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The URL of the worker script `name` (without extension) beside the module at `base` (its import.meta.url). */
export function workerScript(name: string, base: string): URL {
  return new URL(`./${name}${FROM_SOURCE ? '.ts' : '.js'}`, base);
}

/** Starts a worker thread on `script` (from workerScript). */
export function startModuleWorker(script: URL, options: WorkerOptions = {}): Worker {
  if (!FROM_SOURCE) return new Worker(fileURLToPath(script), options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
