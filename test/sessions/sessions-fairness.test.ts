/**
 * The in-process session store is shared by every virtual key but bounded: past `sessions.max_entries`, the key holding the
 * most sessions gives up its least recently recorded one, so one key opening many conversations cannot make another key's
 * conversation start over.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { closeAll, post, twoTenants } from '../helpers/gateway.js';

const ADMIN = 'sk-admin-sfair-000000000000000000';
const KEYS = { a: 'sk-sy-sfair-a-00000000000001', b: 'sk-sy-sfair-b-00000000000002' };

describe('sessions under one key\'s flood', () => {
  let sim: Simulator;
  let gw: Gateway;
  let a: OpenAI;
  let b: OpenAI;

  before(async () => {
    ({ sim, gw, a, b } = await twoTenants(KEYS, { server: { admin_key: ADMIN }, sessions: { enabled: true, max_entries: 4 } }));
  });
  after(() => closeAll(gw, [sim]));

  const turn = (ai: OpenAI, session: string) =>
    ai.chat.completions.create({ model: 'up/m', messages: [{ role: 'user', content: `hello from ${session}` }] }, { headers: { 'x-switchyard-session': session } });

  /** Earlier turns the gateway remembers of a key's session (0 when it was forgotten). */
  async function turns(apiKey: string, session: string): Promise<number> {
    const ex = await post(gw, '/admin/route/explain', { api_key: apiKey, headers: { 'x-switchyard-session': session }, request: { model: 'up/m', messages: [{ role: 'user', content: 'next' }] } }, { authorization: `Bearer ${ADMIN}` });
    assert.equal(ex.status, 200, ex.text);
    return ex.json.session.turns as number;
  }

  it('keeps another key\'s session when one key opens more sessions than the store holds; the flooding key loses its own least recent', async () => {
    await turn(b, 'b-conversation');
    await turn(b, 'b-conversation');
    for (let i = 0; i < 10; i++) await turn(a, `a-${i}`);
    assert.equal(await turns(KEYS.b, 'b-conversation'), 2, 'B\'s session survived A\'s flood');
    assert.equal(await turns(KEYS.a, 'a-9'), 1, 'A keeps its newest');
    assert.equal(await turns(KEYS.a, 'a-0'), 0, 'A lost its oldest');
  });
});
