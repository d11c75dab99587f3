/**
 * State a stage keeps for one request (its semantic budget, its authorised principal, a memoised scan), held by the
 * request's context and gone with it. A WeakMap keyed by the context did this before, one per stage: under load every
 * such map's table keeps entries for contexts the young-generation collector has promoted, grows until a full collection
 * clears them and is reallocated as it grows (megabyte tables, allocated in old space), so most of what the gateway
 * promoted at 2,000 requests/s was those tables (docs/proxy-cpu.md, "Per-request state on the context").
 *
 * Each RequestLocal is a slot of its own (a symbol), so two instances of a stage (say after a reload) never see each
 * other's state, as with separate WeakMaps. A context copied by spreading (a cascade tier, a judge call) carries the
 * original's slots object, which names its owner: the copy reads none of them and gets slots of its own on first write.
 */
import type { RequestContext } from './context.js';

/** The slots of one request: one property per RequestLocal that has a value for it. */
export class RequestSlots {
  [slot: symbol]: unknown;
  constructor(readonly owner: RequestContext) {}
}

/** One kind of per-request state; the API of the WeakMap it replaces. */
export class RequestLocal<T> {
  private readonly slot: symbol;

  constructor(name: string) {
    this.slot = Symbol(name);
  }

  get(ctx: RequestContext): T | undefined {
    const slots = ctx.slots;
    return slots !== undefined && slots.owner === ctx ? (slots[this.slot] as T | undefined) : undefined;
  }

  has(ctx: RequestContext): boolean {
    return this.get(ctx) !== undefined;
  }

  set(ctx: RequestContext, value: T): this {
    let slots = ctx.slots;
    if (slots === undefined || slots.owner !== ctx) ctx.slots = slots = new RequestSlots(ctx);
    slots[this.slot] = value;
    return this;
  }

  delete(ctx: RequestContext): boolean {
    const had = this.has(ctx);
    if (had) ctx.slots![this.slot] = undefined;
    return had;
  }
}
