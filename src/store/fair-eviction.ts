/**
 * Owner-fair eviction for the bounded in-memory stores (the cache's index, sessions, stored responses). Every entry belongs
 * to an owner (a tenant); when the store is over a bound, the entry to drop is
 *   1. an expired entry (the one that expired first), else
 *   2. the least recently used entry of the owner holding the largest share of the store — its entries over `maxEntries`
 *      or its bytes over `maxBytes`, whichever is larger.
 * So an owner holding no more than its fair share (a bound over the number of owners) never loses an entry to another
 * owner's traffic, and with one owner the policy is plain LRU (expired entries first).
 *
 * Cost: the store's own entry objects carry the two fields this module keeps on them (no allocation per entry); a touch
 * is one Map delete and set, as a single LRU Map's is; adding or removing an entry is O(log entries) in the expiry heap
 * and O(log owners) in the owners' heap; choosing a victim is O(1). The store keeps its own key lookup.
 */

export interface FairLimits {
  readonly maxEntries: number;
  /** Infinity for a store bounded by count only. */
  readonly maxBytes: number;
}

/** One owner's entries, least recently used first (Map order), and its place in the owners' heap. */
export interface Holding<K, E> {
  readonly owner: string;
  readonly order: Map<K, E>;
  bytes: number;
  share: number;
  pos: number;
}

/** What the evictor needs of an entry; the store's own entry object carries it. */
export interface Evictable<K> {
  readonly key: K;
  readonly owner: string;
  /** Epoch ms; change it only through `FairEviction.renew` while the entry is tracked. */
  expiresAt: number;
  readonly bytes: number;
  /** Kept by FairEviction: the owner's holding while the entry is tracked, else undefined. */
  fairHolding: Holding<K, Evictable<K>> | undefined;
  /** Kept by FairEviction: the entry's index in the expiry heap. */
  fairPos: number;
}

export class FairEviction<K, E extends Evictable<K>> {
  private readonly holdings = new Map<string, Holding<K, E>>();
  /** Max-heap of holdings by share. */
  private readonly owners: Holding<K, E>[] = [];
  /** Min-heap of entries by expiresAt. */
  private readonly expiry: E[] = [];
  private total = 0;
  private held = 0;

  constructor(private limits: FairLimits) {}

  get size(): number { return this.total; }
  get bytes(): number { return this.held; }
  get ownerCount(): number { return this.holdings.size; }

  /** Whether the store is past either bound. */
  over(): boolean {
    return this.total > this.limits.maxEntries || this.held > this.limits.maxBytes;
  }

  /**
   * New bounds (a store reading its settings per write passes them each time: nothing is allocated); shares are recomputed
   * (O(owners)) only when they change. The store then evicts while `over()`.
   */
  setLimits(maxEntries: number, maxBytes = Infinity): void {
    if (maxEntries === this.limits.maxEntries && maxBytes === this.limits.maxBytes) return;
    this.limits = { maxEntries, maxBytes };
    for (const h of this.owners) h.share = this.shareOf(h);
    for (let i = (this.owners.length >> 1) - 1; i >= 0; i--) this.ownerDown(i);
  }

  /** One owner's entries (least recently used first), for a store that looks entries up by owner; never modify it. */
  entriesOf(owner: string): ReadonlyMap<K, E> | undefined {
    return this.holdings.get(owner)?.order;
  }

  /** Starts tracking an entry as its owner's most recently used. Its key must not be tracked under the same owner. */
  add(e: E): void {
    let h = this.holdings.get(e.owner);
    if (h === undefined) {
      h = { owner: e.owner, order: new Map(), bytes: 0, share: 0, pos: this.owners.length };
      this.holdings.set(e.owner, h);
      this.owners.push(h);
    }
    h.order.set(e.key, e);
    h.bytes += e.bytes;
    e.fairHolding = h as unknown as Holding<K, Evictable<K>>;
    e.fairPos = this.expiry.length;
    this.expiry.push(e);
    this.expiryUp(e.fairPos);
    this.total++;
    this.held += e.bytes;
    h.share = this.shareOf(h);
    this.ownerUp(h.pos);
  }

  /** Stops tracking an entry; false when it was not tracked. */
  remove(e: E): boolean {
    const h = e.fairHolding as unknown as Holding<K, E> | undefined;
    if (h === undefined) return false;
    e.fairHolding = undefined;
    h.order.delete(e.key);
    h.bytes -= e.bytes;
    this.total--;
    this.held -= e.bytes;
    // Each heap loses an element by moving its last one into the gap and restoring the order around it.
    const last = this.expiry.pop()!;
    if (last !== e) {
      this.expiry[e.fairPos] = last;
      last.fairPos = e.fairPos;
      this.expiryUp(last.fairPos);
      this.expiryDown(last.fairPos);
    }
    if (h.order.size === 0) {
      this.holdings.delete(h.owner);
      const tail = this.owners.pop()!;
      if (tail !== h) {
        this.owners[h.pos] = tail;
        tail.pos = h.pos;
        this.ownerUp(tail.pos);
        this.ownerDown(tail.pos);
      }
    } else {
      h.share = this.shareOf(h);
      this.ownerDown(h.pos);
    }
    return true;
  }

  /** Marks an entry its owner's most recently used. */
  touch(e: E): void {
    const order = e.fairHolding?.order;
    if (order === undefined) return;
    order.delete(e.key);
    order.set(e.key, e);
  }

  /** Marks an entry most recently used and moves its expiry. */
  renew(e: E, expiresAt: number): void {
    if (e.fairHolding === undefined) { e.expiresAt = expiresAt; return; }
    this.touch(e);
    const before = e.expiresAt;
    e.expiresAt = expiresAt;
    if (expiresAt < before) this.expiryUp(e.fairPos); else this.expiryDown(e.fairPos);
  }

  /** The entry that expired first, when one has expired by `now`. */
  expired(now: number): E | undefined {
    const first = this.expiry[0];
    return first !== undefined && first.expiresAt <= now ? first : undefined;
  }

  /** The entry to drop next: an expired one, else the least recently used of the owner holding the largest share. */
  victim(now: number): E | undefined {
    return this.expired(now) ?? this.owners[0]?.order.values().next().value;
  }

  clear(): void {
    for (const e of this.expiry) e.fairHolding = undefined;
    this.holdings.clear();
    this.owners.length = 0;
    this.expiry.length = 0;
    this.total = 0;
    this.held = 0;
  }

  private shareOf(h: Holding<K, E>): number {
    return Math.max(h.order.size / this.limits.maxEntries, h.bytes / this.limits.maxBytes);
  }

  private expiryUp(i: number): void {
    const a = this.expiry;
    const e = a[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.expiresAt <= e.expiresAt) break;
      a[i] = a[p]!;
      a[i]!.fairPos = i;
      i = p;
    }
    a[i] = e;
    e.fairPos = i;
  }

  private expiryDown(i: number): void {
    const a = this.expiry;
    const n = a.length;
    const e = a[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1]!.expiresAt < a[c]!.expiresAt) c++;
      if (a[c]!.expiresAt >= e.expiresAt) break;
      a[i] = a[c]!;
      a[i]!.fairPos = i;
      i = c;
    }
    a[i] = e;
    e.fairPos = i;
  }

  private ownerUp(i: number): void {
    const a = this.owners;
    const h = a[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.share >= h.share) break;
      a[i] = a[p]!;
      a[i]!.pos = i;
      i = p;
    }
    a[i] = h;
    h.pos = i;
  }

  private ownerDown(i: number): void {
    const a = this.owners;
    const n = a.length;
    const h = a[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1]!.share > a[c]!.share) c++;
      if (a[c]!.share <= h.share) break;
      a[i] = a[c]!;
      a[i]!.pos = i;
      i = c;
    }
    a[i] = h;
    h.pos = i;
  }
}
