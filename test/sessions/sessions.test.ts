import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sessionsConfigSchema } from '../../src/sessions/config.js';
import { sessionId } from '../../src/sessions/session-key.js';
import { MemorySessionStore, parseState } from '../../src/sessions/store.js';
import { ctxOf } from '../rules/helpers.js';

const cfg = sessionsConfigSchema.parse({ enabled: true });
const opening = [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'plan a trip' }];

test('a derived session is the same on every turn, differs per tenant and per opening; the header wins', () => {
  const t1 = sessionId(ctxOf({ model: 'm', messages: opening }), cfg)!;
  const t3 = sessionId(ctxOf({ model: 'm', messages: [...opening, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'in May' }] }), cfg)!;
  assert.equal(t1.source, 'derived');
  assert.equal(t3.key, t1.key);
  assert.notEqual(sessionId(ctxOf({ model: 'm', messages: opening }, { caller: { teamId: 'other' } }), cfg)!.key, t1.key);
  assert.notEqual(sessionId(ctxOf({ model: 'm', messages: [opening[0], { role: 'user', content: 'plan a party' }] }), cfg)!.key, t1.key);
  const h = sessionId(ctxOf({ model: 'm', messages: opening }, { headers: { 'x-switchyard-session': 'abc' } }), cfg)!;
  assert.equal(h.source, 'header');
  assert.notEqual(sessionId(ctxOf({ model: 'm', messages: opening }, { headers: { 'x-switchyard-session': 'abc' }, caller: { virtualKeyId: 'vk2' } }), cfg)!.key, h.key);
  assert.equal(sessionId(ctxOf({ model: 'm', messages: opening }), { ...cfg, derive: false }), undefined);
  assert.equal(sessionId(ctxOf({ model: 'm', input: 'embed me' }), cfg), undefined);
});

test('the memory store forgets idle sessions and keeps at most max_entries, least recently used first out', async () => {
  let now = 1000;
  const store = new MemorySessionStore(() => 2, () => now);
  const s = { target: 'p/m', tier: 'simple' as const, turns: 1 };
  await store.put('vk', 'a', s, 100);
  await store.put('vk', 'b', s, 100);
  await store.get('a');
  await store.put('vk', 'a', { ...s, turns: 2 }, 100); // refreshed: b is now the oldest
  await store.put('vk', 'c', s, 100);
  assert.equal(store.size, 2);
  assert.equal(await store.get('b'), undefined);
  assert.equal((await store.get('a'))?.turns, 2);
  now += 100;
  assert.equal(await store.get('a'), undefined);
});

test('a stored state that is not a session reads as none', () => {
  assert.equal(parseState('{"target":"p/m","tier":"huge","turns":1}'), undefined);
  assert.equal(parseState('not json'), undefined);
  assert.deepEqual(parseState('{"target":"p/m","tier":"complex","turns":3}'), { target: 'p/m', tier: 'complex', turns: 3 });
});
