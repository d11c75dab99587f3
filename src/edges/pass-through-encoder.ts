/**
 * The pass-through half of every StreamEncoder (src/edges/types.ts) whose protocol matches an upstream's wire format. Parts
 * made from an upstream event in that format carry the event (`raw`); the encoder holds an event's parts until all
 * `raw.parts` of them arrived unchanged and then writes the upstream's own bytes. When a part of the event was changed or
 * dropped, what was held is serialised and so is the rest of that event. A subclass says how its protocol serialises a
 * part, notes a part that left as upstream bytes, and writes an event's bytes.
 */
import type { StreamFailure, StreamPart, WireEvent, WireFormat } from '../llm/parts.js';
import type { StreamEncoder } from './types.js';

export abstract class PassThroughEncoder implements StreamEncoder {
  /** The upstream event whose parts are arriving, and those held so far. */
  private group: WireEvent | undefined;
  private held: StreamPart[] = [];
  /** A part of `group` was changed or dropped: its remaining parts are serialised. */
  private broken = false;

  constructor(private readonly format: WireFormat) {}

  /** The protocol's own text for one part. */
  protected abstract serialise(part: StreamPart): string;
  /** A part that leaves inside its upstream event's bytes: the encoder keeps track of what it said. */
  protected abstract passed(part: StreamPart): void;
  /** An upstream event's own bytes, as an SSE event of the protocol. */
  protected abstract wire(raw: WireEvent): string;
  abstract fail(failure: StreamFailure): string;

  encode(part: StreamPart): string {
    const raw = 'raw' in part ? part.raw : undefined;
    if (raw !== undefined && raw.format === this.format) {
      if (raw === this.group) {
        if (this.broken) return this.serialise(part);
        this.held.push(part);
        return this.held.length < raw.parts ? '' : this.forward(raw);
      }
      const out = this.release();
      if (raw.parts === 1) {
        this.passed(part);
        return out + this.wire(raw);
      }
      this.group = raw;
      this.broken = false;
      this.held.push(part);
      return out;
    }
    const out = this.release();
    if (this.group !== undefined) this.broken = true;
    return out + this.serialise(part);
  }

  /** What is held, serialised (an event whose parts did not all arrive); call before writing a closing event. */
  protected release(): string {
    if (this.held.length === 0) {
      this.group = undefined;
      return '';
    }
    const held = this.held;
    this.held = [];
    let out = '';
    for (const p of held) out += this.serialise(p);
    return out;
  }

  /** All of an event's parts arrived unchanged: the upstream's own bytes. */
  private forward(raw: WireEvent): string {
    for (const p of this.held) this.passed(p);
    this.held = [];
    this.group = undefined;
    return this.wire(raw);
  }
}
