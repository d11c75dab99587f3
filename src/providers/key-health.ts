/**
 * Live health of one upstream key: EWMA latency, a sliding window of outcomes, in-flight count, rate-limit headroom and its
 * circuit. Updated on every attempt; read by the balancer and the health registry.
 */
import { Circuit, type CircuitSettings, type CircuitState } from './circuit.js';
import type { RateLimitInfo } from './types.js';

const BUCKETS = 10;
const SAMPLES = 128;

export interface HealthSettings {
  ewma_alpha: number;
  window_ms: number;
  degraded_error_rate: number;
}

export type KeyState = 'healthy' | 'degraded' | 'open' | 'half_open';

export class KeyHealth {
  readonly circuit: Circuit;
  ewmaMs = 0;
  inFlight = 0;
  /** Not before this time (ms epoch) because the upstream said so (429 retry-after, exhausted headroom). */
  coolUntil = 0;
  remainingRequests: number | undefined;
  private readonly okCounts = new Uint32Array(BUCKETS);
  private readonly errCounts = new Uint32Array(BUCKETS);
  private readonly bucketStart = new Float64Array(BUCKETS);
  private readonly samples = new Float64Array(SAMPLES);
  private sampleCount = 0;
  private sampleNext = 0;

  constructor(private health: HealthSettings, circuit: CircuitSettings) {
    this.circuit = new Circuit(circuit);
  }

  configure(health: HealthSettings, circuit: CircuitSettings): void {
    this.health = health;
    this.circuit.configure(circuit);
  }

  private bucket(now: number): number {
    const width = this.health.window_ms / BUCKETS;
    const slot = Math.floor(now / width);
    const i = slot % BUCKETS;
    if (this.bucketStart[i] !== slot) {
      this.bucketStart[i] = slot;
      this.okCounts[i] = 0;
      this.errCounts[i] = 0;
    }
    return i;
  }

  /** Requests and errors within the sliding window. */
  window(now: number): { requests: number; errors: number } {
    const width = this.health.window_ms / BUCKETS;
    const current = Math.floor(now / width);
    let requests = 0;
    let errors = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (current - this.bucketStart[i] < BUCKETS) {
        requests += this.okCounts[i] + this.errCounts[i];
        errors += this.errCounts[i];
      }
    }
    return { requests, errors };
  }

  errorRate(now: number): number {
    const w = this.window(now);
    return w.requests === 0 ? 0 : w.errors / w.requests;
  }

  available(now: number): boolean {
    return now >= this.coolUntil && this.circuit.canPass(now);
  }

  start(): void {
    this.inFlight++;
    this.circuit.onStart();
  }

  succeed(now: number, latencyMs: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.okCounts[this.bucket(now)]++;
    this.ewmaMs = this.ewmaMs === 0 ? latencyMs : this.ewmaMs + this.health.ewma_alpha * (latencyMs - this.ewmaMs);
    this.samples[this.sampleNext] = latencyMs;
    this.sampleNext = (this.sampleNext + 1) % SAMPLES;
    if (this.sampleCount < SAMPLES) this.sampleCount++;
    this.circuit.onSuccess();
  }

  fail(now: number, latencyMs: number, retryAfterS?: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.errCounts[this.bucket(now)]++;
    // A slow failure (timeout) also says something about latency.
    if (latencyMs > this.ewmaMs) this.ewmaMs = this.ewmaMs === 0 ? latencyMs : this.ewmaMs + this.health.ewma_alpha * (latencyMs - this.ewmaMs);
    if (retryAfterS !== undefined) this.coolUntil = Math.max(this.coolUntil, now + retryAfterS * 1000);
    const w = this.window(now);
    this.circuit.onFailure(now, w.requests, w.errors);
  }

  /** The attempt ended without a verdict on the key (the client went away). */
  abandon(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.circuit.onAbandon();
  }

  noteRateLimit(info: RateLimitInfo, now: number): void {
    this.remainingRequests = info.remainingRequests;
    if (info.remainingRequests === 0 && info.retryAfterS !== undefined) this.coolUntil = Math.max(this.coolUntil, now + info.retryAfterS * 1000);
  }

  state(now: number): KeyState {
    const c: CircuitState = this.circuit.state;
    if (c === 'open') return now - this.circuit.openedAt >= 0 && !this.circuit.canPass(now) ? 'open' : 'half_open';
    if (c === 'half_open') return 'half_open';
    return this.errorRate(now) >= this.health.degraded_error_rate || now < this.coolUntil ? 'degraded' : 'healthy';
  }

  percentile(p: number): number {
    if (this.sampleCount === 0) return 0;
    const sorted = Array.from(this.samples.subarray(0, this.sampleCount)).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  }
}
