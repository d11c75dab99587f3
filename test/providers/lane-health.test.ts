import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyHealth } from '../../src/providers/key-health.js';

const HEALTH = { ewma_alpha: 0.2, window_ms: 60_000, degraded_error_rate: 0.5 };
const CIRCUIT = { consecutive_failures: 2, error_rate: 0.5, min_requests: 100, cooldown_ms: 60_000, half_open_probes: 1 };
/** A key with the lanes `a` and `b`; `laneA()` is its lane for `a`. */
const keyOf = () => {
  const key = new KeyHealth(HEALTH, CIRCUIT);
  key.align(['a', 'b'], true, HEALTH, CIRCUIT);
  return key;
};
const laneA = () => keyOf().lane('a');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a timeout is no verdict on a key that answered an attempt begun after it: the wait was that request\'s own', async () => {
  const key = laneA();
  key.start();
  const began = Date.now();
  await sleep(20);
  key.start(); // a newer attempt, answered at once
  key.firstByte(1);
  key.succeed(Date.now(), 1);
  await sleep(5);
  key.failed('timeout', Date.now(), Date.now() - began);
  assert.equal(key.errorRate(Date.now()), 0);
  assert.equal(key.circuit.consecutiveFailures, 0);
  assert.equal(key.inFlight, 0);
});

test('timeouts count on a key that answers only work it took before them (a key that hangs for new work)', async () => {
  const key = laneA();
  const old = Date.now();
  for (let i = 0; i < 2; i++) { key.start(); key.firstByte(1); } // two streams begun before the key hung, answering still
  await sleep(10);
  for (let i = 0; i < 2; i++) {
    key.start();
    const began = Date.now();
    await sleep(10);
    key.succeed(Date.now(), Date.now() - old); // one of the old streams ends meanwhile: it began before this attempt
    key.failed('timeout', Date.now(), Date.now() - began);
  }
  assert.equal(key.errorRate(Date.now()), 0.5, 'both timeouts counted, beside the two old streams that ended');
  assert.equal(key.circuit.consecutiveFailures, 1);
});

test('a timeout with no other answer counts against the key', () => {
  const key = laneA();
  key.start();
  key.failed('timeout', Date.now(), 400);
  assert.equal(key.circuit.consecutiveFailures, 1);
});

test('a model\'s failures open its own lane\'s circuit; the key\'s other models stay available', () => {
  const key = keyOf();
  const now = Date.now();
  for (let i = 0; i < 2; i++) {
    key.lane('a').start();
    key.lane('a').failed('upstream', now, 10);
  }
  assert.equal(key.lane('a').available(now), false);
  assert.equal(key.lane('b').available(now), true);
  assert.equal(key.lane('b').circuit.state, 'closed');
});

test('a rate limit rests only the model\'s lane', () => {
  const key = keyOf();
  const now = Date.now();
  key.lane('a').start();
  key.lane('a').failed('rate_limited', now, 10, 60);
  assert.equal(key.lane('a').available(now + 59_000), false);
  assert.equal(key.lane('b').available(now), true);
  assert.equal(key.lane('a').available(now + 60_000), true);
});

test('a refused key (credential) is out for every model; one probe after the cooldown brings every lane back', () => {
  const key = keyOf();
  const now = Date.now();
  key.lane('a').start();
  key.lane('a').failed('credential', now, 10);
  assert.equal(key.lane('b').available(now), false);
  assert.equal(key.lane('unnamed').available(now), false);
  const later = now + CIRCUIT.cooldown_ms;
  assert.equal(key.lane('b').available(later), true, 'a probe may go');
  key.lane('b').start();
  assert.equal(key.lane('a').available(later), false, 'one probe at a time, on any lane');
  key.lane('b').succeed(later, 10);
  assert.equal(key.credential.state, 'closed');
  assert.equal(key.lane('a').available(later), true);
});

test('a probe that fails for a reason other than the key frees its slot and proves nothing about the key', () => {
  const key = keyOf();
  const now = Date.now();
  key.lane('a').start();
  key.lane('a').failed('credential', now, 10);
  const later = now + CIRCUIT.cooldown_ms;
  assert.equal(key.lane('b').available(later), true);
  key.lane('b').start();
  key.lane('b').failed('upstream', later, 10);
  assert.equal(key.credential.state, 'half_open');
  assert.equal(key.lane('a').available(later), true, 'the next attempt probes the key');
});

test('models no config names share one lane; a new layout keeps the stats of lanes that remain', () => {
  const key = keyOf();
  assert.equal(key.lane('x'), key.lane('y'));
  assert.equal(key.lane('x'), key.shared);
  const a = key.lane('a');
  a.start();
  a.succeed(Date.now(), 10);
  key.align(['a', 'c'], false, HEALTH, CIRCUIT);
  assert.equal(key.lane('a'), a);
  assert.equal(key.lane('b'), key.shared, 'b is no longer named');
  assert.deepEqual([...key.lanes()].map(([m]) => m), ['a', 'c'], 'the unused shared lane of a provider naming every model is not shown');
});
