/**
 * Circuit breaker state machine for one key: closed → open (after N consecutive failures or an error rate over the window) →
 * half-open after a cooldown (a limited number of probes) → closed on a probe's success, open again on its failure.
 */

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitSettings {
  consecutive_failures: number;
  error_rate: number;
  min_requests: number;
  cooldown_ms: number;
  half_open_probes: number;
}

export class Circuit {
  state: CircuitState = 'closed';
  openedAt = 0;
  probesInFlight = 0;
  consecutiveFailures = 0;

  constructor(private settings: CircuitSettings) {}

  configure(settings: CircuitSettings): void {
    this.settings = settings;
  }

  /** May a request go through now? Moves open → half_open once the cooldown has passed. */
  canPass(now: number): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (now - this.openedAt < this.settings.cooldown_ms) return false;
      this.state = 'half_open';
      this.probesInFlight = 0;
    }
    return this.probesInFlight < this.settings.half_open_probes;
  }

  /** Call when a request is actually sent (counts half-open probes). */
  onStart(): void {
    if (this.state === 'half_open') this.probesInFlight++;
  }

  onSuccess(): void {
    this.consecutiveFailures = 0;
    if (this.state === 'half_open') {
      this.probesInFlight = Math.max(0, this.probesInFlight - 1);
      this.state = 'closed';
    }
  }

  /** `windowRequests`/`windowErrors` are the key's sliding-window counts including this failure. */
  onFailure(now: number, windowRequests: number, windowErrors: number): void {
    this.consecutiveFailures++;
    if (this.state === 'half_open') {
      this.probesInFlight = Math.max(0, this.probesInFlight - 1);
      this.trip(now);
      return;
    }
    if (this.state !== 'closed') return;
    const rateTrip = windowRequests >= this.settings.min_requests && windowErrors / windowRequests >= this.settings.error_rate;
    if (this.consecutiveFailures >= this.settings.consecutive_failures || rateTrip) this.trip(now);
  }

  /**
   * An attempt's answer began (a stream's first part): the key works. A half-open circuit closes and the probe's slot is
   * free now, not when the stream ends — a long answer, or a client reading it slowly, must not keep the key from everyone
   * else until then. The attempt's own verdict still comes at its end (a break then counts as any failure does).
   */
  onAnswered(): void {
    if (this.state !== 'half_open') return;
    this.probesInFlight = Math.max(0, this.probesInFlight - 1);
    this.state = 'closed';
    this.consecutiveFailures = 0;
  }

  /** A probe that ended without a verdict (client went away) frees its slot. */
  onAbandon(): void {
    if (this.state === 'half_open') this.probesInFlight = Math.max(0, this.probesInFlight - 1);
  }

  /** Opens the circuit now, whatever the counts (a key the upstream refused); probes follow after the cooldown. */
  open(now: number): void {
    if (this.state === 'half_open') this.probesInFlight = Math.max(0, this.probesInFlight - 1);
    this.consecutiveFailures++;
    this.trip(now);
  }

  private trip(now: number): void {
    this.state = 'open';
    this.openedAt = now;
    this.probesInFlight = 0;
  }
}
