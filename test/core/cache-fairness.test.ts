/**
 * The in-process cache is shared by every tenant but bounded: past `cache.max_entries` (or `max_memory_mb`), the tenant
 * holding the largest share gives up its least recently used answer, so one tenant's traffic cannot push another tenant's
 * cached answers out; evictions are still counted by reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { closeAll, twoTenants } from '../helpers/gateway.js';

const ADMIN = 'sk-admin-cfair-000000000000000000';
const KEYS = { a: 'sk-sy-cfair-a-00000000000001', b: 'sk-sy-cfair-b-00000000000002' };

describe('cached answers under one tenant\'s flood', () => {
  let sim: Simulator;
  let gw: Gateway;
  let a: OpenAI;
  let b: OpenAI;

  before(async () => {
    ({ sim, gw, a, b } = await twoTenants(KEYS, { server: { admin_key: ADMIN }, cache: { enabled: true, max_entries: 4 } }));
  });
  after(() => closeAll(gw, [sim]));

  const ask = async (ai: OpenAI, content: string): Promise<string | null> =>
    (await ai.chat.completions.create({ model: 'up/m', messages: [{ role: 'user', content }] }).withResponse()).response.headers.get('x-switchyard-cache');

  it('keeps another tenant\'s answers when one tenant stores more than the cache holds; the flooding tenant loses its own least recently used', async () => {
    assert.equal(await ask(b, 'What is the capital of France?'), 'miss');
    assert.equal(await ask(a, 'flood 0'), 'miss');
    for (let i = 1; i < 10; i++) {
      assert.equal(await ask(a, `flood ${i}`), 'miss');
      assert.equal(await ask(a, 'flood 0'), 'hit-exact', 'A keeps using its first answer');
    }
    assert.equal(await ask(b, 'What is the capital of France?'), 'hit-exact', 'B\'s answer survived A\'s flood');
    // A keeps its most recently used answers within the bound: the one it used again and its newest.
    assert.equal(await ask(a, 'flood 9'), 'hit-exact');
    assert.equal(await ask(a, 'flood 0'), 'hit-exact');
    assert.equal(await ask(a, 'flood 1'), 'miss');
    // Eleven answers stored by A, three kept: eight evicted for the bound, counted under their reason.
    const stats = await (await fetch(`${gw.url}/v1/cache/stats`, { headers: { 'x-admin-key': ADMIN } })).json() as { totals: { evictions: Record<string, number> }; entries: number };
    assert.equal(stats.totals.evictions['lru'], 8,  JSON.stringify(stats.totals.evictions));
    assert.ok(stats.entries <= 4);
  });
});
