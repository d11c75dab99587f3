/**
 * The scheduling priority of the model's worker threads (Linux), set by each worker on itself before the model's own threads
 * start, so they inherit it. `idle` puts the thread under the SCHED_IDLE policy: the kernel gives it a core only when no
 * ordinary thread of any process wants one, and a waking ordinary thread (the event loop with a request to answer, or any
 * other process on the host) takes the core from it at once. A nice value only weighs the share: a nice thread keeps a
 * core until its time slice ends, which under load puts milliseconds of wait in front of every request the loop answers.
 * SCHED_IDLE is set through the C library (koffi); where that cannot be reached the thread takes the lowest nice value.
 */
import { readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getPriority, setPriority } from 'node:os';

/** `idle`: SCHED_IDLE; a number: added to the thread's nice value (0 keeps the process's priority; capped at 19). */
export type WorkerPriority = 'idle' | number;

/** What a thread got: SCHED_IDLE, a nice value, or nothing (not Linux, or not permitted). */
export type AppliedPriority = 'idle' | { nice: number } | 'unchanged';

const SCHED_IDLE = 5;
const LOWEST_NICE = 19;

/** Lowers the calling thread's priority as configured, and says what it applied. */
export function lowerThreadPriority(priority: WorkerPriority): AppliedPriority {
  if (process.platform !== 'linux') return 'unchanged';
  if (priority === 'idle') return schedIdle() ? 'idle' : niceThread(LOWEST_NICE);
  // Relative to the thread's own (the process's, inherited): a niced gateway's model never outranks its event loop.
  return priority > 0 ? niceThread(Math.min(LOWEST_NICE, getPriority(0) + priority)) : 'unchanged';
}

/** The calling thread under SCHED_IDLE (pid 0 is the calling thread for sched_setscheduler); false where it cannot be set. */
function schedIdle(): boolean {
  try {
    // koffi: the FFI native-memory.ts uses already; sched_setscheduler has no Node binding.
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const set = koffi.load('libc.so.6').func('int sched_setscheduler(int pid, int policy, const int *param)') as (pid: number, policy: number, param: number[]) => number;
    return set(0, SCHED_IDLE, [0]) === 0;
  } catch {
    return false; // no glibc (musl, say) or the FFI did not load
  }
}

/** Sets the calling thread's nice value (Linux: a thread id is a pid to setpriority; getPriority(0) reads the calling thread's). */
function niceThread(nice: number): AppliedPriority {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return 'unchanged';
    setPriority(tid, nice);
    return { nice };
  } catch {
    return 'unchanged'; // no /proc or not permitted: the thread keeps the process's priority
  }
}

/** What an operator is told when `idle` could not be had (undefined when they got what they asked for). */
export function priorityShortfall(requested: WorkerPriority, applied: AppliedPriority): string | undefined {
  if (requested !== 'idle' || applied === 'idle') return undefined;
  return applied === 'unchanged'
    ? 'semantic.embedder.worker_priority: idle: thread priorities cannot be set here (Linux only); the model\'s threads keep the process\'s priority'
    : `semantic.embedder.worker_priority: idle: SCHED_IDLE could not be set (no glibc or not permitted); the model's threads run at nice ${applied.nice}`;
}
