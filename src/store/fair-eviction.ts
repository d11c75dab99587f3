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
    for (let i = (this.owners.length >> 1) - 1; i >= 0; i--) siftDown(this.owners, i, BY_SHARE);
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
    siftUp(this.expiry, e.fairPos, BY_EXPIRY);
    this.total++;
    this.held += e.bytes;
    h.share = this.shareOf(h);
    siftUp(this.owners, h.pos, BY_SHARE);
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
    removeAt(this.expiry, e.fairPos, BY_EXPIRY);
    if (h.order.size === 0) {
      this.holdings.delete(h.owner);
      removeAt(this.owners, h.pos, BY_SHARE);
    } else {
      h.share = this.shareOf(h);
      siftDown(this.owners, h.pos, BY_SHARE);
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
    if (expiresAt < before) siftUp(this.expiry, e.fairPos, BY_EXPIRY); else siftDown(this.expiry, e.fairPos, BY_EXPIRY);
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
}

/** A heap's order and how an element learns its index (kept on the element, so removal from the middle is O(log n)). */
interface HeapOrder<T> {
  /** Whether x belongs above y. */
  above(x: T, y: T): boolean;
  place(x: T, i: number): void;
  at(x: T): number;
}

/** The expiry heap: the entry that expires first on top. */
const BY_EXPIRY: HeapOrder<Evictable<unknown>> = { above: (x, y) => x.expiresAt < y.expiresAt, place: (x, i) => { x.fairPos = i; }, at: (x) => x.fairPos };
/** The owners' heap: the largest share on top. */
const BY_SHARE: HeapOrder<Holding<unknown, unknown>> = { above: (x, y) => x.share > y.share, place: (x, i) => { x.pos = i; }, at: (x) => x.pos };

/** Takes the element at index i out: the last one fills the gap and moves to where the order wants it. */
function removeAt<T>(a: T[], i: number, o: HeapOrder<T>): void {
  const last = a.pop()!;
  if (i >= a.length) return;
  a[i] = last;
  o.place(last, i);
  siftUp(a, i, o);
  siftDown(a, o.at(last), o);
}

function siftUp<T>(a: T[], i: number, o: HeapOrder<T>): void {
  const x = a[i]!;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!o.above(x, a[p]!)) break;
    a[i] = a[p]!;
    o.place(a[i]!, i);
    i = p;
  }
  a[i] = x;
  o.place(x, i);
}

function siftDown<T>(a: T[], i: number, o: HeapOrder<T>): void {
  const n = a.length;
  const x = a[i]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && o.above(a[c + 1]!, a[c]!)) c++;
    if (!o.above(a[c]!, x)) break;
    a[i] = a[c]!;
    o.place(a[i]!, i);
    i = c;
  }
  a[i] = x;
  o.place(x, i);
}
