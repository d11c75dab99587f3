/**
 * Latency summaries for the load generator: percentiles over recorded samples (microseconds) and rounding helpers.
 */

/** Nearest-rank percentile of an ascending array; 0 for an empty one. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

export const round = (x: number, digits = 3): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : 0);

/** A growable buffer of samples in microseconds, kept as a typed array to avoid per-sample allocation. */
export class Samples {
  private data: Float64Array;
  length = 0;

  constructor(capacity = 16_384) {
    this.data = new Float64Array(capacity);
  }

  push(us: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = us;
  }

  /** p50 / p90 / p99 / max / mean in milliseconds. */
  summary(): { p50_ms: number; p90_ms: number; p99_ms: number; max_ms: number; mean_ms: number } {
    const sorted = this.data.slice(0, this.length).sort();
    let sum = 0;
    for (let i = 0; i < sorted.length; i++) sum += sorted[i];
    const ms = (us: number): number => round(us / 1000);
    return {
      p50_ms: ms(percentile(sorted, 0.5)),
      p90_ms: ms(percentile(sorted, 0.9)),
      p99_ms: ms(percentile(sorted, 0.99)),
      max_ms: ms(sorted.length > 0 ? sorted[sorted.length - 1] : 0),
      mean_ms: ms(sorted.length > 0 ? sum / sorted.length : 0),
    };
  }
}

/** min / median / max of repeated measurements. */
export function spread(values: number[]): { min: number; median: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return { min: 0, median: 0, max: 0 };
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: round(s[0]), median: round(median), max: round(s[s.length - 1]) };
}
