/** Admission's sharing rule (src/server/in-flight.ts), by properties over random sequences of arrivals and departures. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InFlight } from '../../src/server/in-flight.js';

type Op = { kind: 'enter'; key: number } | { kind: 'leave'; pick: number };

test('the total never exceeds twice the bound; below the bound all get in; at it a key holding its share is refused and a key with none is not', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 5 }).map((key): Op => ({ kind: 'enter', key })) },
    { weight: 1, arbitrary: fc.nat().map((pick): Op => ({ kind: 'leave', pick })) },
  ), { maxLength: 300 }), (max, ops) => {
    const gate = new InFlight(() => max);
    const held: string[] = [];
    for (const op of ops) {
      if (op.kind === 'leave') {
        if (held.length === 0) continue;
        const [key] = held.splice(op.pick % held.length, 1);
        gate.leave(key, []);
      } else {
        const key = `k${op.key}`;
        const mine = held.filter((k) => k === key).length;
        const keys = new Set(held).size + (mine === 0 ? 1 : 0);
        const before = gate.count;
        const taken = gate.enter(key, []) === undefined;
        if (before < max) assert.ok(taken, 'below the bound every request gets in');
        else if (mine >= max / keys) assert.ok(!taken, 'at the bound a key holding its share is refused');
        else if (mine === 0 && before < 2 * max) assert.ok(taken, 'at the bound a key with nothing in flight gets in');
        if (taken) held.push(key);
      }
      assert.equal(gate.count, held.length);
      assert.ok(gate.count <= 2 * max, `total ${gate.count} against bound ${max}`);
    }
  }));
});

test('a level\'s own bound is never passed, and every place taken under it is given back', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }).map((key): Op => ({ kind: 'enter', key })) },
    { weight: 2, arbitrary: fc.nat().map((pick): Op => ({ kind: 'leave', pick })) },
  ), { maxLength: 200 }), (teamMax, ops) => {
    // Keys k0 and k1 share a team bounded at teamMax; k0 also has its own bound of 2; k2 and k3 have none.
    const team = { scope: 't:team', label: "team 'team'", max: teamMax };
    const limitsOf = (key: string) => (key === 'k0' ? [{ scope: 'k:k0', label: "virtual key 'k0'", max: 2 }, team] : key === 'k1' ? [team] : []);
    const gate = new InFlight(() => 1000);
    const held: string[] = [];
    for (const op of ops) {
      if (op.kind === 'leave') {
        if (held.length === 0) continue;
        const [key] = held.splice(op.pick % held.length, 1);
        gate.leave(key, limitsOf(key));
      } else {
        const key = `k${op.key}`;
        const refusal = gate.enter(key, limitsOf(key));
        const inTeam = held.filter((k) => k === 'k0' || k === 'k1').length;
        const mine = held.filter((k) => k === key).length;
        const shouldRefuse = (key === 'k0' && (mine >= 2 || inTeam >= teamMax)) || (key === 'k1' && inTeam >= teamMax);
        assert.equal(refusal !== undefined, shouldRefuse, `${key} with ${mine} own and ${inTeam} of the team in flight`);
        if (refusal !== undefined) assert.equal(refusal.code, 'parallel_requests_exceeded');
        else held.push(key);
      }
      assert.equal(gate.count, held.length);
    }
    for (const key of held.splice(0)) gate.leave(key, limitsOf(key));
    assert.equal(gate.count, 0);
    assert.equal(gate.enter('k0', limitsOf('k0')), undefined, 'every place was given back');
  }));
});
