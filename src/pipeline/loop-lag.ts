/**
 * How far behind the event loop runs: a 50 ms timer's lateness, smoothed (EWMA). When the loop is this late, a request's
 * semantic work cannot finish within a budget of about the same size, and doing it anyway adds CPU to a saturated loop:
 * the semantic stage then steps aside (reason "lagging"). One sampler per process (the loop is per process), started on
 * first use and unref'd so it never keeps the process alive.
 */
const PERIOD_MS = 50;
const ALPHA = 0.3;

let lagMs = 0;
let started = false;

function start(): void {
  started = true;
  let expected = performance.now() + PERIOD_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    lagMs = ALPHA * Math.max(0, now - expected) + (1 - ALPHA) * lagMs;
    expected = now + PERIOD_MS;
  }, PERIOD_MS);
  timer.unref();
}

/** The event loop's smoothed lag in milliseconds (0 until the sampler has run). */
export function loopLagMs(): number {
  if (!started) start();
  return lagMs;
}
