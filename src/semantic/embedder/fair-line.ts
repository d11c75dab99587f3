/**
 * The embedder's waiting line, fair between owners (the virtual keys requests come with): start-time fair queueing with
 * equal shares. A text gets a round — one past its owner's previous text still in line, but never behind the round being
 * served — and the line is kept in round order, first come first served within a round. So an owner sending a text now
 * and then is served in the next round however many texts another owner has queued, and a flood only delays the flood.
 * With one owner every text gets the next round: the line is plain first in, first out.
 */

/** What the line holds: its owner and round are set by the line; `taken` once it left the line (sent to the model, or dropped). */
export interface InLine {
  owner: string;
  round: number;
  taken: boolean;
}

/** Where a text would go: its round, its index in the line, and the live texts that would be ahead of and behind it. */
export interface Place {
  readonly round: number;
  readonly index: number;
  readonly ahead: number;
  readonly behind: number;
}

export class FairLine<T extends InLine> {
  /** Sorted by round; may hold taken items until the front passes them. */
  private items: T[] = [];
  /** Per owner with texts in line: the round after its last one, and how many it has in line. */
  private readonly owners = new Map<string, { next: number; live: number }>();
  /** The round of the last text taken. */
  private serving = 0;
  private liveCount = 0;

  /** Texts in line that someone still waits for. */
  get live(): number {
    return this.liveCount;
  }

  /** Where a text of `owner` would go now (nothing changes until `insert`). */
  place(owner: string): Place {
    const round = Math.max(this.serving, this.owners.get(owner)?.next ?? 0);
    const items = this.items;
    // The usual case, one owner or the owner with the most in line: the end of the line, no search.
    if (items.length === 0 || items[items.length - 1].round <= round) return { round, index: items.length, ahead: this.liveCount, behind: 0 };
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (items[mid].round <= round) lo = mid + 1;
      else hi = mid;
    }
    let ahead = 0;
    for (let i = 0; i < lo; i++) if (!items[i].taken) ahead++;
    return { round, index: lo, ahead, behind: this.liveCount - ahead };
  }

  /** Puts the item where `place` (made just before, for the same owner) said. */
  insert(item: T, owner: string, place: Place): void {
    item.owner = owner;
    item.round = place.round;
    item.taken = false;
    const o = this.owners.get(owner);
    if (o === undefined) this.owners.set(owner, { next: place.round + 1, live: 1 });
    else {
      o.next = place.round + 1;
      o.live++;
    }
    if (place.index === this.items.length) this.items.push(item);
    else this.items.splice(place.index, 0, item);
    this.liveCount++;
  }

  /** Takes up to `max` live items off the front (taken ones met on the way are discarded). */
  take(max: number): T[] {
    const batch: T[] = [];
    let i = 0;
    for (; i < this.items.length && batch.length < max; i++) {
      const p = this.items[i];
      if (p.taken) continue;
      this.leave(p);
      batch.push(p);
      this.serving = p.round;
    }
    this.items = i === this.items.length ? [] : this.items.slice(i);
    return batch;
  }

  /** Takes a live item out of the line where it stands. */
  drop(item: T): void {
    if (!item.taken) this.leave(item);
  }

  /** An owner with no text left in line has no round to continue from: the next one joins the round being served. */
  private leave(item: T): void {
    item.taken = true;
    this.liveCount--;
    const o = this.owners.get(item.owner);
    if (o !== undefined && --o.live === 0) this.owners.delete(item.owner);
  }

  /** The live item at the back of the line, if any. */
  last(): T | undefined {
    for (let i = this.items.length - 1; i >= 0; i--) if (!this.items[i].taken) return this.items[i];
    return undefined;
  }

  /** Empties the line, returning the live items it held (each marked taken). */
  clear(): T[] {
    const live = this.items.filter((p) => !p.taken);
    for (const p of live) p.taken = true;
    this.items = [];
    this.liveCount = 0;
    this.owners.clear();
    return live;
  }
}
