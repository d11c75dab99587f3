/**
 * How loaded the event loop is, sampled every 50 ms by one timer per process (started on first use, unref'd so it never
 * keeps the process alive), both smoothed (EWMA):
 * - lag: the timer's lateness. When the loop is this late, a request's semantic work cannot finish within a budget of
 *   about the same size, and doing it anyway adds CPU to a saturated loop: the semantic stage then steps aside (reason
 *   "lagging").
 * - utilisation: the share of wall time the loop was not waiting for events (performance.eventLoopUtilization), which
 *   includes the time its thread waited for a core.
 */
import { performance } from 'node:perf_hooks';

const PERIOD_MS = 50;
const ALPHA = 0.3;

let lagMs = 0;
let busy = 0;
let started = false;

function start(): void {
  started = true;
  let expected = performance.now() + PERIOD_MS;
  let elu = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.now();
    lagMs = ALPHA * Math.max(0, now - expected) + (1 - ALPHA) * lagMs;
    expected = now + PERIOD_MS;
    const next = performance.eventLoopUtilization();
    busy = ALPHA * performance.eventLoopUtilization(next, elu).utilization + (1 - ALPHA) * busy;
    elu = next;
  }, PERIOD_MS);
  timer.unref();
}

/** The event loop's smoothed lag in milliseconds (0 until the sampler has run). */
export function loopLagMs(): number {
  if (!started) start();
  return lagMs;
}

/** The event loop's smoothed utilisation, 0 to 1 (0 until the sampler has run). */
export function loopBusyShare(): number {
  if (!started) start();
  return busy;
}
