/** The embedder's fair waiting line (src/semantic/embedder/fair-line.ts), by properties over random operation sequences. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FairLine, type InLine } from '../../src/semantic/embedder/fair-line.js';

interface Item extends InLine {
  seq: number;
}

type Op = { kind: 'insert'; owner: string } | { kind: 'take'; n: number } | { kind: 'drop'; pick: number };

const ops = (owners: string[]): fc.Arbitrary<Op[]> => fc.array(fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...owners).map((owner): Op => ({ kind: 'insert', owner })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 4 }).map((n): Op => ({ kind: 'take', n })) },
  { weight: 1, arbitrary: fc.nat().map((pick): Op => ({ kind: 'drop', pick })) },
), { maxLength: 200 });

/** Runs the operations, checking the line's invariants at each step; returns the items in the order they were taken. */
function run(list: Op[]): Item[] {
  const line = new FairLine<Item>();
  const live: Item[] = [];
  const out: Item[] = [];
  let seq = 0;
  const takeInto = (n: number): void => {
    for (const it of line.take(n)) {
      out.push(it);
      live.splice(live.indexOf(it), 1);
    }
  };
  for (const op of list) {
    if (op.kind === 'insert') {
      const place = line.place(op.owner);
      const mine = live.filter((x) => x.owner === op.owner).length;
      if (mine === 0) {
        // A newcomer waits behind at most one text of each other owner with texts in line.
        const others = new Set(live.map((x) => x.owner)).size;
        assert.ok(place.ahead <= others, `newcomer ${op.owner} has ${place.ahead} ahead with ${others} other owners in line`);
      }
      assert.equal(place.ahead + place.behind, live.length);
      const item: Item = { seq: seq++, owner: '', round: 0, taken: false };
      line.insert(item, op.owner, place);
      live.push(item);
    } else if (op.kind === 'take') takeInto(op.n);
    else if (live.length > 0) {
      const victim = live[op.pick % live.length];
      line.drop(victim);
      live.splice(live.indexOf(victim), 1);
    }
    assert.equal(line.live, live.length);
    if (live.length === 0) assert.equal(line.last(), undefined);
    else assert.ok(live.includes(line.last()!), "the back of the line is a live item");
  }
  takeInto(Infinity);
  assert.equal(line.live, 0);
  assert.equal(line.last(), undefined);
  return out;
}

test('with one owner the line is first in, first out', () => {
  fc.assert(fc.property(ops(['solo']), (list) => {
    const out = run(list);
    assert.deepEqual(out.map((x) => x.seq), [...out.map((x) => x.seq)].sort((a, b) => a - b));
  }));
});

test('several owners: every text is taken once, each owner\'s in its own order, and a newcomer waits behind at most one text per other owner', () => {
  fc.assert(fc.property(ops(['a', 'b', 'c', 'd']), (list) => {
    const out = run(list);
    assert.equal(new Set(out).size, out.length);
    for (const owner of ['a', 'b', 'c', 'd']) {
      const mine = out.filter((x) => x.owner === owner).map((x) => x.seq);
      assert.deepEqual(mine, [...mine].sort((a, b) => a - b));
    }
  }));
});

test('a flood does not delay another owner by more than one round', () => {
  const line = new FairLine<Item>();
  const add = (owner: string, seq: number): void => line.insert({ seq, owner: '', round: 0, taken: false }, owner, line.place(owner));
  for (let i = 0; i < 50; i++) add('flood', i);
  add('quiet', 100);
  const order = line.take(Infinity).map((x) => x.owner);
  assert.equal(order.indexOf('quiet'), 1);
});
