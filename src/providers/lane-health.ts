/**
 * Live health of one lane — an upstream key used for one model (src/providers/key-health.ts holds a key's lanes): EWMA
 * latency, a sliding window of outcomes, in-flight count, time to first byte, rate-limit headroom, its rest after a rate
 * limit and its circuit. Upstreams fail and rate-limit per model (OpenAI's limits and x-ratelimit-* headers are per model),
 * so one model down or over its limit rests that lane, never the key's other models. Only a refusal of the key itself
 * (failure action `disable`) reaches past the lane: it opens the key's credential circuit, which every lane of the key
 * obeys. Updated on every attempt — how a failed attempt counts is its failure class's action (src/llm/failure.ts) — and
 * read by the balancer and the health registry.
 */
import { actionOf, type FailureClass } from '../llm/failure.js';
import { Circuit, type CircuitSettings, type CircuitState } from './circuit.js';
import type { RateLimitInfo } from './types.js';

const BUCKETS = 10;
const SAMPLES = 128;
/** How long a key rests after a rate limit that named no retry-after, and the longest rest a retry-after can ask for. */
const DEFAULT_COOL_S = 1;
const MAX_COOL_S = 300;

/** A ring of the latest samples with percentiles on demand (sorted once per change, so reads between samples are cheap). */
class Samples {
  private readonly values = new Float64Array(SAMPLES);
  private count = 0;
  private next = 0;
  private sorted: Float64Array | undefined;

  add(v: number): void {
    this.values[this.next] = v;
    this.next = (this.next + 1) % SAMPLES;
    if (this.count < SAMPLES) this.count++;
    this.sorted = undefined;
  }

  percentile(p: number): number {
    if (this.count === 0) return 0;
    const sorted = (this.sorted ??= this.values.slice(0, this.count).sort());
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  }
}

export interface HealthSettings {
  ewma_alpha: number;
  window_ms: number;
  degraded_error_rate: number;
}

export type HealthState = 'healthy' | 'degraded' | 'open' | 'half_open';

export class LaneHealth {
  readonly circuit: Circuit;
  /** Whether an attempt ever went through this lane (a lane no config names is shown once used). */
  used = false;
  ewmaMs = 0;
  inFlight = 0;
  /** Not before this time (ms epoch) because the upstream said so (429 retry-after, exhausted headroom). */
  coolUntil = 0;
  remainingRequests: number | undefined;
  limitRequests: number | undefined;
  /**
   * The latest start (ms epoch) of an attempt the key answered (its first byte came): a timed-out attempt that began no
   * later is no verdict on the key — it took newer work and answered it, so the wait was that request's own.
   */
  private answeredFrom = 0;
  private readonly okCounts = new Uint32Array(BUCKETS);
  private readonly errCounts = new Uint32Array(BUCKETS);
  private readonly bucketStart = new Float64Array(BUCKETS);
  private readonly latency = new Samples();
  private readonly ttfb = new Samples();

  /** `credential`: the key's own circuit, opened only when the upstream refuses the key; shared by the key's lanes. */
  constructor(private health: HealthSettings, circuit: CircuitSettings, readonly credential: Circuit) {
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

  /** Not resting, the lane's circuit passes and the key's credential circuit passes. */
  available(now: number): boolean {
    return now >= this.coolUntil && this.credential.canPass(now) && this.circuit.canPass(now);
  }

  start(): void {
    this.used = true;
    this.inFlight++;
    this.circuit.onStart();
    this.credential.onStart();
  }

  /** An attempt's first byte arrived after `ttfbMs`: response headers for JSON, the first part for streams. */
  firstByte(ttfbMs: number): void {
    this.ttfb.add(ttfbMs);
    this.answeredFrom = Math.max(this.answeredFrom, Date.now() - ttfbMs);
  }

  /** A stream's first part arrived after `ttfbMs`: its time to first byte, and its circuit learns the key answered (`Circuit.onAnswered`). */
  streamed(ttfbMs: number): void {
    this.firstByte(ttfbMs);
    this.circuit.onAnswered();
    this.credential.onAnswered();
  }

  succeed(now: number, latencyMs: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.okCounts[this.bucket(now)]++;
    this.ewmaMs = this.ewmaMs === 0 ? latencyMs : this.ewmaMs + this.health.ewma_alpha * (latencyMs - this.ewmaMs);
    this.latency.add(latencyMs);
    this.circuit.onSuccess();
    this.credential.onSuccess();
  }

  /** Ends an attempt that failed with `failure`, as that class's action says. */
  failed(failure: FailureClass, now: number, latencyMs: number, retryAfterS?: number): void {
    switch (actionOf(failure).health) {
      case 'none': this.abandon(); return;
      case 'failure': this.fail(now, latencyMs); return;
      // The key answered an attempt that began no earlier than this one: it takes new work, the wait was this request's own.
      case 'unless_answered': if (this.answeredFrom >= now - latencyMs) this.abandon(); else this.fail(now, latencyMs); return;
      case 'cool': this.cool(now, retryAfterS); return;
      case 'disable': this.disable(now); return;
    }
  }

  /** An upstream failure: counts toward the lane's error rate and circuit (no verdict on the key's credential). */
  fail(now: number, latencyMs: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.credential.onAbandon();
    this.errCounts[this.bucket(now)]++;
    // A slow failure (timeout) also says something about latency.
    if (latencyMs > this.ewmaMs) this.ewmaMs = this.ewmaMs === 0 ? latencyMs : this.ewmaMs + this.health.ewma_alpha * (latencyMs - this.ewmaMs);
    const w = this.window(now);
    this.circuit.onFailure(now, w.requests, w.errors);
  }

  /** The upstream rate-limited the lane: it rests for the retry-after it named (bounded), without counting as an error. */
  cool(now: number, retryAfterS: number | undefined): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.circuit.onAbandon();
    this.credential.onAbandon();
    const rest = Math.min(MAX_COOL_S, retryAfterS ?? DEFAULT_COOL_S);
    this.coolUntil = Math.max(this.coolUntil, now + rest * 1000);
  }

  /**
   * The upstream refused the key itself: the key's credential circuit opens now, taking every lane of the key out of
   * service (the key is bad, whatever the model); a probe after the cooldown, on any lane, tells when it works again.
   */
  disable(now: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.errCounts[this.bucket(now)]++;
    this.circuit.onAbandon();
    this.credential.open(now);
  }

  /** The attempt ended without a verdict on the key (the client went away, or the request itself was at fault). */
  abandon(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.circuit.onAbandon();
    this.credential.onAbandon();
  }

  /**
   * A reply's rate-limit headers: the lane's headroom, and a rest (bounded like a 429's) when none remain. Those of an
   * account the caller's own header chose (`callerAccount`) are that account's, not the key's: one tenant's account never
   * rests the key, or moves traffic off it, for the others.
   */
  noteRateLimit(info: RateLimitInfo, now: number): void {
    if (info.callerAccount === true) return;
    this.remainingRequests = info.remainingRequests;
    if (info.limitRequests !== undefined) this.limitRequests = info.limitRequests;
    if (info.remainingRequests === 0 && info.retryAfterS !== undefined) {
      this.coolUntil = Math.max(this.coolUntil, now + Math.min(MAX_COOL_S, info.retryAfterS) * 1000);
    }
  }

  /** The lane's own state (its circuit, its rest, its error rate); the key's credential circuit is the key's to show. */
  state(now: number): HealthState {
    const c: CircuitState = this.circuit.state;
    if (c === 'open') return now - this.circuit.openedAt >= 0 && !this.circuit.canPass(now) ? 'open' : 'half_open';
    if (c === 'half_open') return 'half_open';
    return this.errorRate(now) >= this.health.degraded_error_rate || now < this.coolUntil ? 'degraded' : 'healthy';
  }

  /** Latency percentile of recent successful attempts (time to first part for streams), ms; 0 before any. */
  percentile(p: number): number {
    return this.latency.percentile(p);
  }

  /**
   * Share of the upstream's request limit still available (remaining / limit, 0..1) as its last reply said; 0 when it said
   * none remain; 1 when it names no limit (no sign of one).
   */
  headroom(): number {
    const left = this.remainingRequests;
    if (left === undefined) return 1;
    if (left <= 0) return 0;
    const limit = this.limitRequests;
    return limit === undefined || limit <= 0 ? 1 : Math.min(1, left / limit);
  }

  /** Time-to-first-byte percentile of recent attempts (response headers for JSON, first part for streams), ms; 0 before any. */
  ttfbPercentile(p: number): number {
    return this.ttfb.percentile(p);
  }
}
