/**
 * The owner-fair eviction policy shared by the bounded in-memory stores, checked against a plain model of it on random
 * operation sequences: with one owner it is LRU; with several, a victim that has not expired is always its owner's least
 * recently used entry and that owner holds the largest share (so an owner within its fair share never loses one); an expired
 * entry always goes first, the one that expired first; the bookkeeping (counts, bytes, owners) always matches.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FairEviction, type Evictable } from '../../src/store/fair-eviction.js';

interface Item extends Evictable<string> {}

const item = (owner: string, key: string, bytes = 0, expiresAt = Infinity): Item =>
  ({ key, owner, bytes, expiresAt, fairHolding: undefined, fairPos: -1 });

/** The policy written plainly: per-owner arrays in use order, shares and expiry computed by scanning everything. */
class Model {
  readonly owners = new Map<string, Item[]>();
  constructor(public maxEntries: number, public maxBytes: number) {}
  get all(): Item[] { return [...this.owners.values()].flat(); }
  add(e: Item): void { const l = this.owners.get(e.owner) ?? []; l.push(e); this.owners.set(e.owner, l); }
  remove(e: Item): void {
    const l = this.owners.get(e.owner)!;
    l.splice(l.indexOf(e), 1);
    if (l.length === 0) this.owners.delete(e.owner);
  }
  touch(e: Item): void { this.remove(e); this.add(e); }
  share(owner: string): number {
    const l = this.owners.get(owner) ?? [];
    return Math.max(l.length / this.maxEntries, l.reduce((s, e) => s + e.bytes, 0) / this.maxBytes);
  }
  over(): boolean {
    const all = this.all;
    return all.length > this.maxEntries || all.reduce((s, e) => s + e.bytes, 0) > this.maxBytes;
  }
}

type Op =
  | { op: 'add'; owner: number; bytes: number; ttl: number }
  | { op: 'touch'; pick: number }
  | { op: 'renew'; pick: number; ttl: number }
  | { op: 'remove'; pick: number }
  | { op: 'tick'; ms: number }
  | { op: 'limits'; maxEntries: number; maxBytes: number };

const opArb = (owners: number, withBytes: boolean, withTime: boolean): fc.Arbitrary<Op> => fc.oneof(...[
  { weight: 6, arbitrary: fc.record({ op: fc.constant('add' as const), owner: fc.nat(owners - 1), bytes: withBytes ? fc.integer({ min: 1, max: 50 }) : fc.constant(0), ttl: withTime ? fc.integer({ min: 1, max: 100 }) : fc.constant(Infinity) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('touch' as const), pick: fc.nat() }) },
  { weight: withTime ? 1 : 0, arbitrary: fc.record({ op: fc.constant('renew' as const), pick: fc.nat(), ttl: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: withTime ? 1 : 0, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('limits' as const), maxEntries: fc.integer({ min: 1, max: 12 }), maxBytes: withBytes ? fc.integer({ min: 50, max: 300 }) : fc.constant(Infinity) }) },
].filter((a) => a.weight > 0) as Array<{ weight: number; arbitrary: fc.Arbitrary<Op> }>);

/**
 * Runs the operations on the evictor and the model side by side, evicting as a store does after each add or new limits,
 * and checks every victim against the model. Returns the victims' keys in order.
 */
function run(ops: Op[], maxEntries: number, maxBytes: number): string[] {
  const fair = new FairEviction<string, Item>({ maxEntries, maxBytes });
  const model = new Model(maxEntries, maxBytes);
  const evicted: string[] = [];
  let now = 0;
  let n = 0;
  const enforce = (): void => {
    assert.equal(fair.over(), model.over());
    while (fair.over()) {
      const v = fair.victim(now)!;
      assert.ok(v !== undefined && v.fairHolding !== undefined, 'a victim while over a bound');
      const expired = model.all.filter((e) => e.expiresAt <= now);
      if (expired.length > 0) {
        assert.ok(v.expiresAt <= now, 'an expired entry goes first');
        assert.equal(v.expiresAt, Math.min(...expired.map((e) => e.expiresAt)), 'the one that expired first');
      } else {
        assert.equal(v, model.owners.get(v.owner)![0], 'its owner\'s least recently used');
        const top = Math.max(...[...model.owners.keys()].map((o) => model.share(o)));
        assert.equal(model.share(v.owner), top, 'its owner holds the largest share');
        // Over a bound, the largest share is above 1 / owners: an owner within its fair share never loses an entry.
        assert.ok(model.share(v.owner) > 1 / model.owners.size);
      }
      fair.remove(v);
      model.remove(v);
      evicted.push(v.key);
    }
  };
  for (const o of ops) {
    const live = model.all;
    const picked = 'pick' in o && live.length > 0 ? live[o.pick % live.length] : undefined;
    switch (o.op) {
      case 'add': {
        const e = item(`o${o.owner}`, `k${n++}`, o.bytes, now + o.ttl);
        fair.add(e); model.add(e); enforce();
        break;
      }
      case 'touch': if (picked) { fair.touch(picked); model.touch(picked); } break;
      case 'renew': if (picked) { fair.renew(picked, now + o.ttl); model.touch(picked); } break;
      case 'remove': if (picked) { assert.equal(fair.remove(picked), true); assert.equal(fair.remove(picked), false); model.remove(picked); } break;
      case 'tick': now += o.ms; break;
      case 'limits':
        fair.setLimits(o.maxEntries, o.maxBytes); model.maxEntries = o.maxEntries; model.maxBytes = o.maxBytes; enforce();
        break;
    }
    const all = model.all;
    assert.equal(fair.size, all.length);
    assert.equal(fair.bytes, all.reduce((s, e) => s + e.bytes, 0));
    assert.equal(fair.ownerCount, model.owners.size);
    for (const [owner, list] of model.owners) assert.deepEqual([...fair.entriesOf(owner)!.values()], list, `${owner}'s use order`);
    const soonest = all.length === 0 ? undefined : Math.min(...all.map((e) => e.expiresAt));
    const first = fair.expired(Infinity);
    assert.equal(first?.expiresAt, soonest, 'the expiry heap\'s first is the soonest');
  }
  return evicted;
}

/** Plain LRU: a list in use order, the front evicted past the bound. */
function lru(ops: Op[], maxEntries: number): string[] {
  const order: string[] = [];
  const evicted: string[] = [];
  let n = 0;
  let max = maxEntries;
  const live = (): string[] => [...order].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  for (const o of ops) {
    const byAge = live();
    const picked = 'pick' in o && byAge.length > 0 ? byAge[o.pick % byAge.length] : undefined;
    if (o.op === 'add') order.push(`k${n++}`);
    else if (o.op === 'touch' && picked) { order.splice(order.indexOf(picked), 1); order.push(picked); }
    else if (o.op === 'remove' && picked) order.splice(order.indexOf(picked), 1);
    else if (o.op === 'limits') max = o.maxEntries;
    if (o.op === 'add' || o.op === 'limits') while (order.length > max) evicted.push(order.shift()!);
  }
  return evicted;
}

describe('fair eviction', () => {
  it('with one owner and no expiry, evicts exactly as LRU', () => {
    fc.assert(fc.property(fc.array(opArb(1, false, false), { maxLength: 120 }), fc.integer({ min: 1, max: 10 }), (ops, max) => {
      // The model picks among live entries by age; the evictor's run picks by its owner's use order, so both are given the
      // same choice: pick by key age in both.
      const fair = new FairEviction<string, Item>({ maxEntries: max, maxBytes: Infinity });
      const byKey = new Map<string, Item>();
      const evicted: string[] = [];
      let n = 0;
      for (const o of ops) {
        const byAge = [...byKey.keys()].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
        const picked = 'pick' in o && byAge.length > 0 ? byKey.get(byAge[o.pick % byAge.length]!) : undefined;
        if (o.op === 'add') { const e = item('only', `k${n++}`); byKey.set(e.key, e); fair.add(e); }
        else if (o.op === 'touch' && picked) fair.touch(picked);
        else if (o.op === 'remove' && picked) { fair.remove(picked); byKey.delete(picked.key); }
        else if (o.op === 'limits') fair.setLimits(o.maxEntries);
        if (o.op === 'add' || o.op === 'limits') {
          while (fair.over()) { const v = fair.victim(0)!; fair.remove(v); byKey.delete(v.key); evicted.push(v.key); }
        }
      }
      assert.deepEqual(evicted, lru(ops, max));
    }), { numRuns: 300 });
  });

  it('by count: a victim is its owner\'s least recently used, of the owner holding the most', () => {
    fc.assert(fc.property(fc.array(opArb(4, false, false), { maxLength: 150 }), fc.integer({ min: 1, max: 12 }), (ops, max) => {
      run(ops, max, Infinity);
    }), { numRuns: 300 });
  });

  it('by count and bytes: the owner with the largest share of either bound loses', () => {
    fc.assert(fc.property(fc.array(opArb(9, true, false), { maxLength: 200 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 50, max: 300 }), (ops, max, bytes) => {
      run(ops, max, bytes);
    }), { numRuns: 300 });
  });

  it('expired entries go first, the soonest first, also after their expiry moved', () => {
    fc.assert(fc.property(fc.array(opArb(3, true, true), { maxLength: 150 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 50, max: 300 }), (ops, max, bytes) => {
      run(ops, max, bytes);
    }), { numRuns: 300 });
  });

  it('one owner\'s flood never evicts an owner within its fair share', () => {
    const fair = new FairEviction<string, Item>({ maxEntries: 10, maxBytes: Infinity });
    const kept = [item('b', 'b1'), item('b', 'b2'), item('c', 'c1')];
    for (const e of kept) fair.add(e);
    const lost: string[] = [];
    for (let i = 0; i < 1000; i++) {
      fair.add(item('a', `a${i}`));
      while (fair.over()) { const v = fair.victim(0)!; fair.remove(v); lost.push(v.owner); }
    }
    assert.ok(kept.every((e) => e.fairHolding !== undefined), 'b and c keep every entry');
    assert.deepEqual(new Set(lost), new Set(['a']));
    assert.deepEqual([...fair.entriesOf('a')!.keys()], Array.from({ length: 7 }, (_, i) => `a${993 + i}`));
  });

  it('an owner moved into a departed owner\'s place in the heap still rises to the top', () => {
    const fair = new FairEviction<string, Item>({ maxEntries: 100, maxBytes: Infinity });
    const held = new Map<string, Item[]>();
    const add = (owner: string, n: number): void => {
      for (let i = 0; i < n; i++) { const e = item(owner, `${owner}-${held.get(owner)?.length ?? 0}`); fair.add(e); held.set(owner, [...held.get(owner) ?? [], e]); }
    };
    const drop = (owner: string, n: number): void => { for (const e of held.get(owner)!.splice(0, n)) fair.remove(e); };
    for (const o of ['o0', 'o1', 'o2', 'o3', 'o4', 'o5']) add(o, 1);
    add('o0', 9); add('o1', 4); add('o2', 8); add('o5', 7); // heap by share: o0 10, o1 5, o2 9, o3 1, o4 1, o5 8
    drop('o3', 1); // o5, the last, takes o3's place under o1
    drop('o0', 9);
    drop('o2', 8);
    assert.equal(fair.victim(0)?.owner, 'o5');
  });

  it('an entry moved into a removed entry\'s place in the expiry heap still comes out in expiry order', () => {
    const fair = new FairEviction<string, Item>({ maxEntries: 100, maxBytes: Infinity });
    const items = [1, 50, 2, 60, 70, 3, 4].map((t) => item('o', `t${t}`, 0, t));
    for (const e of items) fair.add(e);
    fair.remove(items[3]!); // 4, the last, takes 60's place under 50
    for (const t of [90, 95]) fair.add(item('o', `t${t}`, 0, t));
    const out: number[] = [];
    for (let e = fair.expired(10); e !== undefined; e = fair.expired(10)) { out.push(e.expiresAt); fair.remove(e); }
    assert.deepEqual(out, [1, 2, 3, 4]);
  });

  it('new bounds reorder the owners: the largest share is measured against the bounds in force', () => {
    const fair = new FairEviction<string, Item>({ maxEntries: 10, maxBytes: 100 });
    for (let i = 0; i < 5; i++) fair.add(item('many-small', `s${i}`, 1));
    fair.add(item('one-large', 'l', 60));
    assert.equal(fair.victim(0)?.owner, 'one-large', '60 of 100 bytes is a larger share than 5 of 10 entries');
    fair.setLimits(6, 1000);
    assert.equal(fair.victim(0)?.owner, 'many-small', '5 of 6 entries is a larger share than 60 of 1000 bytes');
  });

  it('clear forgets everything; removed or cleared entries can be added again', () => {
    const fair = new FairEviction<string, Item>({ maxEntries: 3, maxBytes: 100 });
    const a = item('a', 'x', 10);
    fair.add(a);
    fair.add(item('b', 'y', 20));
    fair.clear();
    assert.equal(fair.size, 0);
    assert.equal(fair.bytes, 0);
    assert.equal(fair.ownerCount, 0);
    assert.equal(fair.victim(0), undefined);
    assert.equal(fair.remove(a), false);
    fair.add(a);
    assert.equal(fair.victim(0), a);
  });
});
