/**
 * Native memory the model frees goes back to the system. glibc's allocator raises its mmap threshold each time a large
 * mapped block is freed (loading USE-lite frees tens of MB of converted weights), after which blocks up to that size come
 * from per-thread arenas that only shrink from the top: every worker thread then keeps up to twice that size resident as
 * free heap, about 25 MB a worker and 50-60 MB a gateway with the default model (docs/embeddings.md, "Memory"). Fixing the
 * threshold at glibc's own default (128 KiB) turns the adjustment off, so large blocks stay mapped and are unmapped when
 * freed. Process-wide and done once, before the model's threads start. Left alone where it does not apply: not Linux or
 * not glibc (musl's allocator differs), or when the operator tunes glibc's allocator through the environment.
 */
import { createRequire } from 'node:module';

const M_MMAP_THRESHOLD = -3;
const THRESHOLD_BYTES = 128 * 1024;

let applied: boolean | undefined;

function glibcRuntime(): boolean {
  if (process.platform !== 'linux') return false;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return typeof header?.glibcVersionRuntime === 'string';
}

/** The operator tunes glibc's allocator themselves (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_, GLIBC_TUNABLES=glibc.malloc.*). */
export const operatorTuned = (env: NodeJS.ProcessEnv): boolean =>
  Object.keys(env).some((k) => k.startsWith('MALLOC_')) || (env.GLIBC_TUNABLES ?? '').includes('glibc.malloc.');

/**
 * Fixes glibc's mmap threshold; true when it did (now or earlier in this process), false where it does not apply or the
 * C library could not be reached (the process then keeps glibc's dynamic threshold: more resident memory, nothing else).
 */
export function keepLargeBlocksMapped(env: NodeJS.ProcessEnv = process.env): boolean {
  if (applied !== undefined) return applied;
  applied = false;
  if (!glibcRuntime() || operatorTuned(env)) return applied;
  try {
    // koffi: a maintained FFI with prebuilt binaries; loaded only here, only on glibc Linux.
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const mallopt = koffi.load('libc.so.6').func('int mallopt(int, int)') as (param: number, value: number) => number;
    applied = mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES) === 1;
  } catch {
    applied = false;
  }
  return applied;
}
