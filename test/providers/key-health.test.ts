import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyHealth } from '../../src/providers/key-health.js';

const settings = () => new KeyHealth({ ewma_alpha: 0.2, window_ms: 60_000, degraded_error_rate: 0.5 }, { consecutive_failures: 2, error_rate: 0.5, min_requests: 100, cooldown_ms: 60_000, half_open_probes: 1 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a timeout is no verdict on a key that answered an attempt begun after it: the wait was that request\'s own', async () => {
  const key = settings();
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
  const key = settings();
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
  const key = settings();
  key.start();
  key.failed('timeout', Date.now(), 400);
  assert.equal(key.circuit.consecutiveFailures, 1);
});
